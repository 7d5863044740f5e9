// The EC2 actions the local cloud serves (instances and their tags), in the
// SDK's shapes and EC2's error codes.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html

import type {
  CreateTagsRequest,
  DeleteTagsRequest,
  DescribeInstancesRequest,
  DescribeInstancesResult,
  DescribeTagsRequest,
  DescribeTagsResult,
  Filter,
  Instance,
  TagDescription,
} from "@aws-sdk/client-ec2";
import * as sdk from "@aws-sdk/client-ec2";
import { AwsError } from "../protocol/awsError.js";
import type { CallContext, ServiceDefinition } from "../protocol/dispatch.js";
import { paginate } from "../protocol/pagination.js";
import type { InstanceRecord } from "../state/model.js";
import type { World } from "../world.js";
import { imdsTagKeyProblem, STATE_CODE } from "./instances.js";

const INSTANCE_ID = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

/** EC2 filter values take * and ? wildcards. */
function matches(pattern: string, value: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === value;
  const regex = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", ".*")
    .replaceAll("?", ".");
  return new RegExp(`^${regex}$`).test(value);
}

type FieldOf = (record: InstanceRecord) => string[] | undefined;

const INSTANCE_FILTERS: Record<string, FieldOf> = {
  "instance-id": (r) => [r.instanceId],
  "instance-state-name": (r) => [r.state],
  "instance-state-code": (r) => [String(STATE_CODE[r.state])],
  "instance-type": (r) => [r.instanceType],
  "image-id": (r) => [r.imageId],
  "private-ip-address": (r) => (r.state === "terminated" ? [] : [r.privateIp]),
  "vpc-id": (r) => [r.vpcId],
  "subnet-id": (r) => [r.subnetId],
  "availability-zone": (r) => [r.availabilityZone],
  "reservation-id": (r) => [r.reservationId],
  "tag-key": (r) => r.tags.map((t) => t.Key),
  "tag-value": (r) => r.tags.map((t) => t.Value),
};

function filterField(name: string): FieldOf {
  if (name.startsWith("tag:")) {
    const key = name.slice(4);
    return (r) => r.tags.filter((t) => t.Key === key).map((t) => t.Value);
  }
  const field = INSTANCE_FILTERS[name];
  if (!field) throw new AwsError("InvalidParameterValue", `The filter '${name}' is invalid`);
  return field;
}

function applyFilters(records: InstanceRecord[], filters: Filter[] | undefined): InstanceRecord[] {
  let out = records;
  for (const filter of filters ?? []) {
    const field = filterField(filter.Name ?? "");
    const values = filter.Values ?? [];
    out = out.filter((r) => (field(r) ?? []).some((v) => values.some((p) => matches(p, v))));
  }
  return out;
}

/** An instance's region: its Availability Zone without the letter (each region has its own EC2). */
function regionOf(record: InstanceRecord): string {
  return record.availabilityZone.slice(0, -1);
}

function instancesIn(world: World, region: string): InstanceRecord[] {
  return [...world.store.instances.values()].filter((r) => regionOf(r) === region);
}

function checkInstanceIds(world: World, ids: readonly string[], region: string): void {
  const malformed = ids.find((id) => !INSTANCE_ID.test(id));
  if (malformed) throw new AwsError("InvalidInstanceID.Malformed", `Invalid id: "${malformed}"`);
  const missing = ids.filter((id) => {
    const record = world.store.instances.get(id);
    return !record || regionOf(record) !== region;
  });
  if (missing.length === 1) {
    throw new AwsError(
      "InvalidInstanceID.NotFound",
      `The instance ID '${missing[0]}' does not exist`,
    );
  }
  if (missing.length > 1) {
    throw new AwsError(
      "InvalidInstanceID.NotFound",
      `The instance IDs '${missing.join(", ")}' do not exist`,
    );
  }
}

function instanceOutput(world: World, r: InstanceRecord): Instance {
  const template = world.store.launchTemplates.get(r.launchTemplate.id);
  const data =
    template?.versions.find((v) => v.versionNumber === r.launchTemplate.version)?.data ?? {};
  const metadata = (data.MetadataOptions ?? {}) as Record<string, unknown>;
  const groups = Array.isArray(data.SecurityGroupIds) ? data.SecurityGroupIds.map(String) : [];
  const dns = `ip-${r.privateIp.replaceAll(".", "-")}.${r.availabilityZone.slice(0, -1)}.compute.internal`;
  const out: Instance = {
    InstanceId: r.instanceId,
    ImageId: r.imageId,
    State: { Code: STATE_CODE[r.state], Name: r.state },
    PrivateDnsName: r.state === "terminated" ? "" : dns,
    PublicDnsName: "",
    StateTransitionReason: r.stateReason ?? "",
    AmiLaunchIndex: 0,
    InstanceType: r.instanceType as Instance["InstanceType"],
    LaunchTime: new Date(r.launchTime),
    Placement: { AvailabilityZone: r.availabilityZone, GroupName: "", Tenancy: "default" },
    Monitoring: { State: "disabled" },
    Architecture: "x86_64",
    RootDeviceType: "ebs",
    RootDeviceName: "/dev/xvda",
    VirtualizationType: "hvm",
    Hypervisor: "xen",
    EbsOptimized: false,
    Tags: r.tags.map((t) => ({ Key: t.Key, Value: t.Value })),
    SecurityGroups: groups.map((id) => ({ GroupId: id, GroupName: id })),
    MetadataOptions: {
      State: "applied",
      HttpTokens: metadata.HttpTokens === "required" ? "required" : "optional",
      HttpEndpoint: metadata.HttpEndpoint === "disabled" ? "disabled" : "enabled",
      HttpPutResponseHopLimit: Number(metadata.HttpPutResponseHopLimit ?? 1),
      InstanceMetadataTags: r.metadataTags ? "enabled" : "disabled",
    },
  };
  if (r.iamInstanceProfile) {
    out.IamInstanceProfile = { Arn: r.iamInstanceProfile.arn, Id: r.iamInstanceProfile.id };
  }
  if (r.state !== "terminated") {
    out.PrivateIpAddress = r.privateIp;
    out.SubnetId = r.subnetId;
    out.VpcId = r.vpcId;
  }
  if (r.state === "terminated" || r.state === "shutting-down") {
    out.StateReason = {
      Code: "Client.UserInitiatedShutdown",
      Message: "Client.UserInitiatedShutdown: User initiated shutdown",
    };
  }
  return out;
}

function checkTags(
  record: InstanceRecord | undefined,
  tags: { Key?: string; Value?: string }[],
): void {
  for (const tag of tags) {
    const key = tag.Key ?? "";
    if (key.toLowerCase().startsWith("aws:")) {
      throw new AwsError(
        "InvalidParameterValue",
        "Tag keys starting with 'aws:' are reserved for internal use",
      );
    }
    if (key.length === 0 || key.length > 128) {
      throw new AwsError(
        "InvalidParameterValue",
        `Tag key must be 1 to 128 characters long (got ${key.length})`,
      );
    }
    if ((tag.Value ?? "").length > 256) {
      throw new AwsError(
        "InvalidParameterValue",
        "Tag value exceeds the maximum length of 256 characters",
      );
    }
    const problem = record?.metadataTags ? imdsTagKeyProblem(key) : undefined;
    if (problem) throw new AwsError("InvalidParameterValue", `${record?.instanceId}: ${problem}`);
  }
}

export function ec2Service(world: World): ServiceDefinition {
  const instanceResources = (ids: readonly string[], region: string) => {
    checkInstanceIds(
      world,
      ids.filter((id) => id.startsWith("i-")),
      region,
    );
    return ids
      .map((id) => world.store.instances.get(id))
      .filter((r): r is InstanceRecord => r !== undefined);
  };
  return {
    service: "ec2",
    envelope: { ec2: true, xmlNamespace: "http://ec2.amazonaws.com/doc/2016-11-15/" },
    sdk: sdk as unknown as Record<string, unknown>,
    handlers: {
      DescribeInstances: (
        input: DescribeInstancesRequest,
        call: CallContext,
      ): DescribeInstancesResult => {
        const ids = input.InstanceIds ?? [];
        if (ids.length > 0 && input.MaxResults !== undefined) {
          throw new AwsError(
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
          );
        }
        if (input.MaxResults !== undefined && (input.MaxResults < 5 || input.MaxResults > 1000)) {
          throw new AwsError(
            "InvalidParameterValue",
            `Value ( ${input.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
          );
        }
        checkInstanceIds(world, ids, call.region);
        let records = instancesIn(world, call.region).sort(
          (a, b) => a.launchTime - b.launchTime || a.instanceId.localeCompare(b.instanceId),
        );
        if (ids.length > 0) records = records.filter((r) => ids.includes(r.instanceId));
        records = applyFilters(records, input.Filters);
        const size = input.MaxResults ?? Number.MAX_SAFE_INTEGER;
        const page = paginate(
          records,
          input.NextToken,
          size,
          (r) => r.instanceId,
          "InvalidParameterValue",
        );
        const reservations = new Map<string, InstanceRecord[]>();
        for (const r of page.items)
          reservations.set(r.reservationId, [...(reservations.get(r.reservationId) ?? []), r]);
        return {
          Reservations: [...reservations].map(([id, members]) => ({
            ReservationId: id,
            OwnerId: world.accountId,
            RequesterId: "940372691376",
            Groups: [],
            Instances: members.map((r) => instanceOutput(world, r)),
          })),
          ...(page.nextToken ? { NextToken: page.nextToken } : {}),
        };
      },
      CreateTags: (input: CreateTagsRequest, call: CallContext) => {
        const tags = input.Tags ?? [];
        const records = instanceResources(input.Resources ?? [], call.region);
        for (const record of records) checkTags(record, tags);
        for (const record of records) {
          for (const tag of tags) {
            const key = tag.Key ?? "";
            const existing = record.tags.find((t) => t.Key === key);
            if (existing) existing.Value = tag.Value ?? "";
            else record.tags.push({ Key: key, Value: tag.Value ?? "" });
          }
          if (record.tags.filter((t) => !t.Key.startsWith("aws:")).length > 50) {
            throw new AwsError(
              "TagLimitExceeded",
              "The maximum number of Tags for a resource has been reached.",
            );
          }
          world.store.touch(record.owner);
        }
        return {};
      },
      DeleteTags: (input: DeleteTagsRequest, call: CallContext) => {
        const records = instanceResources(input.Resources ?? [], call.region);
        for (const record of records) {
          const remove = input.Tags ?? [];
          record.tags = record.tags.filter(
            (t) =>
              t.Key.startsWith("aws:") ||
              !(
                remove.length === 0 ||
                remove.some(
                  (r) => r.Key === t.Key && (r.Value === undefined || r.Value === t.Value),
                )
              ),
          );
          world.store.touch(record.owner);
        }
        return {};
      },
      DescribeTags: (input: DescribeTagsRequest, call: CallContext): DescribeTagsResult => {
        let all: TagDescription[] = [];
        for (const r of instancesIn(world, call.region)) {
          if (r.state === "terminated") continue;
          for (const t of r.tags)
            all.push({
              ResourceId: r.instanceId,
              ResourceType: "instance",
              Key: t.Key,
              Value: t.Value,
            });
        }
        for (const filter of input.Filters ?? []) {
          const values = filter.Values ?? [];
          const field: Record<string, (t: TagDescription) => string> = {
            "resource-id": (t) => t.ResourceId ?? "",
            "resource-type": (t) => t.ResourceType ?? "",
            key: (t) => t.Key ?? "",
            value: (t) => t.Value ?? "",
          };
          const get = field[filter.Name ?? ""];
          if (!get)
            throw new AwsError(
              "InvalidParameterValue",
              `The filter '${filter.Name ?? ""}' is invalid`,
            );
          all = all.filter((t) => values.some((p) => matches(p, get(t))));
        }
        const size = input.MaxResults ?? 1000;
        const page = paginate(
          all,
          input.NextToken,
          size,
          (t) => `${t.ResourceId}\u0000${t.Key}`,
          "InvalidParameterValue",
        );
        return { Tags: page.items, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
      },
    },
  };
}
