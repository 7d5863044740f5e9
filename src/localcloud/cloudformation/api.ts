// The CloudFormation actions the local cloud serves, in the SDK's input and
// output shapes. https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_Operations.html

import type {
  CancelUpdateStackInput,
  ContinueUpdateRollbackInput,
  CreateChangeSetInput,
  CreateChangeSetOutput,
  DeleteChangeSetInput,
  DeleteStackInput,
  ExecuteChangeSetInput,
  SignalResourceInput,
  UpdateTerminationProtectionInput,
  UpdateTerminationProtectionOutput,
} from "@aws-sdk/client-cloudformation";
import * as sdk from "@aws-sdk/client-cloudformation";
import type { CallContext, ServiceDefinition } from "../protocol/dispatch.js";
import { applySignalFault } from "../signalFaults.js";
import type { World } from "../world.js";
import {
  describeChangeSet,
  describeStackEvents,
  describeStackResources,
  describeStacks,
  getTemplate,
  listChangeSets,
} from "./describe.js";
import { deliverSignal } from "./signals.js";
import {
  cancelUpdateStack,
  continueUpdateRollback,
  createChangeSet,
  deleteChangeSet,
  deleteStack,
  executeChangeSet,
} from "./stackActions.js";
import { requireLiveStack } from "./stacks.js";

export function cloudFormationService(world: World): ServiceDefinition {
  return {
    service: "cloudformation",
    envelope: { ec2: false, xmlNamespace: "http://cloudformation.amazonaws.com/doc/2010-05-15/" },
    sdk: sdk as unknown as Record<string, unknown>,
    handlers: {
      CreateChangeSet: (input: CreateChangeSetInput, call: CallContext): CreateChangeSetOutput =>
        createChangeSet(world, input, call.region),
      DescribeChangeSet: (input: sdk.DescribeChangeSetInput) => describeChangeSet(world, input),
      ExecuteChangeSet: (input: ExecuteChangeSetInput) => {
        executeChangeSet(world, input);
        return {};
      },
      DeleteChangeSet: (input: DeleteChangeSetInput) => {
        deleteChangeSet(world, input);
        return {};
      },
      ListChangeSets: (input: sdk.ListChangeSetsInput) => listChangeSets(world, input),
      DescribeStacks: (input: sdk.DescribeStacksInput) => describeStacks(world, input),
      DescribeStackEvents: (input: sdk.DescribeStackEventsInput) =>
        describeStackEvents(world, input),
      DescribeStackResources: (input: sdk.DescribeStackResourcesInput) =>
        describeStackResources(world, input),
      GetTemplate: (input: sdk.GetTemplateInput) => getTemplate(world, input),
      CancelUpdateStack: (input: CancelUpdateStackInput) => {
        cancelUpdateStack(world, input);
        return {};
      },
      ContinueUpdateRollback: (input: ContinueUpdateRollbackInput) => {
        continueUpdateRollback(world, input);
        return {};
      },
      DeleteStack: (input: DeleteStackInput) => {
        deleteStack(world, input);
        return {};
      },
      SignalResource: (input: SignalResourceInput) => {
        const stack = requireLiveStack(world, input.StackName);
        const status = input.Status === "FAILURE" ? "FAILURE" : "SUCCESS";
        const uniqueId = input.UniqueId ?? "";
        const deliver = () =>
          deliverSignal(world, stack, input.LogicalResourceId ?? "", uniqueId, status);
        applySignalFault(world, uniqueId, status, "SignalResource", deliver);
        return {};
      },
      UpdateTerminationProtection: (
        input: UpdateTerminationProtectionInput,
      ): UpdateTerminationProtectionOutput => {
        const stack = requireLiveStack(world, input.StackName);
        stack.terminationProtection = input.EnableTerminationProtection === true;
        world.store.touch(stack.stackId);
        return { StackId: stack.stackId };
      },
    },
  };
}
