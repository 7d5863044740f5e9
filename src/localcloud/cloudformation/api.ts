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
  describeStacks,
  getTemplate,
  listChangeSets,
  listStacks,
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
import {
  describeStackResource,
  describeStackResources,
  listStackResources,
} from "./stackResources.js";
import { requireLiveStack } from "./stacks.js";
import { getTemplateSummary, validateTemplate } from "./templateSummary.js";

export function cloudFormationService(world: World): ServiceDefinition {
  return {
    service: "cloudformation",
    envelope: { ec2: false, xmlNamespace: "http://cloudformation.amazonaws.com/doc/2010-05-15/" },
    sdk: sdk as unknown as Record<string, unknown>,
    handlers: {
      CreateChangeSet: (input: CreateChangeSetInput, call: CallContext): CreateChangeSetOutput =>
        createChangeSet(world, input, call.region),
      DescribeChangeSet: (input: sdk.DescribeChangeSetInput, call: CallContext) =>
        describeChangeSet(world, input, call.region),
      ExecuteChangeSet: (input: ExecuteChangeSetInput, call: CallContext) => {
        executeChangeSet(world, input, call.region);
        return {};
      },
      DeleteChangeSet: (input: DeleteChangeSetInput, call: CallContext) => {
        deleteChangeSet(world, input, call.region);
        return {};
      },
      ListChangeSets: (input: sdk.ListChangeSetsInput, call: CallContext) =>
        listChangeSets(world, input, call.region),
      DescribeStacks: (input: sdk.DescribeStacksInput, call: CallContext) =>
        describeStacks(world, input, call.region),
      DescribeStackEvents: (input: sdk.DescribeStackEventsInput, call: CallContext) =>
        describeStackEvents(world, input, call.region),
      DescribeStackResources: (input: sdk.DescribeStackResourcesInput, call: CallContext) =>
        describeStackResources(world, input, call.region),
      ListStacks: (input: sdk.ListStacksInput, call: CallContext) =>
        listStacks(world, input, call.region),
      DescribeStackResource: (input: sdk.DescribeStackResourceInput, call: CallContext) =>
        describeStackResource(world, input, call.region),
      ListStackResources: (input: sdk.ListStackResourcesInput, call: CallContext) =>
        listStackResources(world, input, call.region),
      GetTemplate: (input: sdk.GetTemplateInput, call: CallContext) =>
        getTemplate(world, input, call.region),
      ValidateTemplate: (input: sdk.ValidateTemplateInput) => validateTemplate(input),
      GetTemplateSummary: (input: sdk.GetTemplateSummaryInput, call: CallContext) =>
        getTemplateSummary(world, input, call.region),
      CancelUpdateStack: (input: CancelUpdateStackInput, call: CallContext) => {
        cancelUpdateStack(world, input, call.region);
        return {};
      },
      ContinueUpdateRollback: (input: ContinueUpdateRollbackInput, call: CallContext) => {
        continueUpdateRollback(world, input, call.region);
        return {};
      },
      DeleteStack: (input: DeleteStackInput, call: CallContext) => {
        deleteStack(world, input, call.region);
        return {};
      },
      SignalResource: (input: SignalResourceInput, call: CallContext) => {
        const stack = requireLiveStack(world, input.StackName, call.region);
        const status = input.Status === "FAILURE" ? "FAILURE" : "SUCCESS";
        const uniqueId = input.UniqueId ?? "";
        const deliver = () =>
          deliverSignal(world, stack, input.LogicalResourceId ?? "", uniqueId, status);
        applySignalFault(world, uniqueId, status, "SignalResource", deliver);
        return {};
      },
      UpdateTerminationProtection: (
        input: UpdateTerminationProtectionInput,
        call: CallContext,
      ): UpdateTerminationProtectionOutput => {
        const stack = requireLiveStack(world, input.StackName, call.region);
        stack.terminationProtection = input.EnableTerminationProtection === true;
        world.store.touch(stack.stackId);
        return { StackId: stack.stackId };
      },
    },
  };
}
