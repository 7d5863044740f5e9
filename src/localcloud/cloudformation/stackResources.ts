// A stack's resources as CloudFormation describes them: DescribeStackResources
// (all at once), DescribeStackResource (one, with its metadata) and
// ListStackResources (paginated summaries), in the SDK's output shapes.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStackResource.html
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListStackResources.html
import type {
  DescribeStackResourceInput,
  DescribeStackResourceOutput,
  DescribeStackResourcesInput,
  DescribeStackResourcesOutput,
  ListStackResourcesInput,
  ListStackResourcesOutput,
  StackResourceSummary,
} from "@aws-sdk/client-cloudformation";
import { validationError } from "../protocol/awsError.js";
import { paginate } from "../protocol/pagination.js";
import type { ResourceRecord, StackRecord } from "../state/model.js";
import type { World } from "../world.js";
import { findStack, requireStack } from "./stacks.js";

/** Resources in template order, as CloudFormation lists them. */
function resourcesOf(stack: StackRecord): ResourceRecord[] {
  return Object.values(stack.resources);
}

/** The fields every resource description shares. */
function common(r: ResourceRecord) {
  return {
    LogicalResourceId: r.logicalId,
    ResourceType: r.type,
    ResourceStatus: r.status,
    ...(r.physicalId ? { PhysicalResourceId: r.physicalId } : {}),
    ...(r.statusReason ? { ResourceStatusReason: r.statusReason } : {}),
  };
}

export function describeStackResources(
  world: World,
  input: DescribeStackResourcesInput,
  region: string,
): DescribeStackResourcesOutput {
  let stack: StackRecord | undefined;
  if (input.StackName) stack = requireStack(world, input.StackName, region);
  else if (input.PhysicalResourceId) {
    stack = [...world.store.stacks.values()].find(
      (s) =>
        s.region === region &&
        Object.values(s.resources).some((r) => r.physicalId === input.PhysicalResourceId),
    );
    if (!stack) throw validationError(`Stack for ${input.PhysicalResourceId} does not exist`);
  } else {
    throw validationError("Either StackName or PhysicalResourceId must be specified.");
  }
  const found = stack;
  const resources = resourcesOf(found).filter(
    (r) => !input.LogicalResourceId || r.logicalId === input.LogicalResourceId,
  );
  return {
    StackResources: resources.map((r) => ({
      StackName: found.stackName,
      StackId: found.stackId,
      ...common(r),
      Timestamp: new Date(r.updatedAt),
      DriftInformation: { StackResourceDriftStatus: "NOT_CHECKED" },
    })),
  };
}

export function describeStackResource(
  world: World,
  input: DescribeStackResourceInput,
  region: string,
): DescribeStackResourceOutput {
  const name = input.StackName ?? "";
  if (!input.LogicalResourceId) {
    throw validationError(
      "1 validation error detected: Value null at 'logicalResourceId' failed to satisfy constraint: Member must not be null",
    );
  }
  const stack = name ? findStack(world, name, region) : undefined;
  if (!stack) throw validationError(`Stack '${name}' does not exist`);
  const r = stack.resources[input.LogicalResourceId];
  if (!r) {
    throw validationError(`Resource ${input.LogicalResourceId} does not exist for stack ${name}`);
  }
  const metadata = r.definition.Metadata;
  return {
    StackResourceDetail: {
      StackName: stack.stackName,
      StackId: stack.stackId,
      ...common(r),
      LastUpdatedTimestamp: new Date(r.updatedAt),
      ...(metadata === undefined ? {} : { Metadata: JSON.stringify(metadata) }),
      DriftInformation: { StackResourceDriftStatus: "NOT_CHECKED" },
    },
  };
}

export function listStackResources(
  world: World,
  input: ListStackResourcesInput,
  region: string,
): ListStackResourcesOutput {
  const stack = requireStack(world, input.StackName, region);
  const page = paginate(
    resourcesOf(stack),
    input.NextToken,
    world.settings.pageSize.resources,
    (r) => r.logicalId,
  );
  const summaries: StackResourceSummary[] = page.items.map((r) => ({
    ...common(r),
    LastUpdatedTimestamp: new Date(r.updatedAt),
    DriftInformation: { StackResourceDriftStatus: "NOT_CHECKED" },
  }));
  return {
    StackResourceSummaries: summaries,
    ...(page.nextToken ? { NextToken: page.nextToken } : {}),
  };
}
