// EC2 instances of the local cloud: launching one (address, tags, the rule
// that instance metadata tags put on tag keys), its state as the runtime
// reports its phase, and its tags.
import { ec2Id, nameSuffix, sha256Hex } from "../ids.js";
import type { InstancePhase } from "../instances/index.js";
import { AwsError } from "../protocol/awsError.js";
import type {
  InstanceRecord,
  InstanceState,
  LaunchTemplateRecord,
  PlainResourceRecord,
  Tag,
} from "../state/model.js";
import type { World } from "../world.js";

/** EC2's instance state codes. https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceState.html */
export const STATE_CODE: Record<InstanceState, number> = {
  pending: 0,
  running: 16,
  "shutting-down": 32,
  terminated: 48,
};

/**
 * With instance metadata tags on, tag keys may hold only letters, digits and
 * + - = . , _ : @, no spaces or "/", and may not be ".", ".." or "_index";
 * otherwise the launch fails.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/work-with-tags-in-IMDS.html
 */
export function imdsTagKeyProblem(key: string): string | undefined {
  if (key === "." || key === ".." || key === "_index") {
    return `the tag key '${key}' is reserved in instance metadata`;
  }
  if (!/^[A-Za-z0-9+\-=._:@,]+$/.test(key)) {
    return `the tag key '${key}' is not valid with instance metadata tags enabled: keys may hold only letters, numbers and + - = . , _ : @ (no spaces or /)`;
  }
  return undefined;
}

export function tagMap(tags: readonly Tag[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags) out[t.Key] = t.Value;
  return out;
}

/** The next free loopback address after the network base (x.y.z.0 and .255 are skipped). */
export function allocateAddress(world: World): string {
  const base = addressToInt(world.settings.network);
  for (;;) {
    const n = world.store.meta.nextAddress++;
    world.store.touchMeta();
    const address = base + n;
    if (address >>> 24 !== 127) {
      throw new AwsError(
        "InsufficientFreeAddressesInSubnet",
        `the local cloud has used every address after ${world.settings.network}; reset it (quorate local reset) or start it with another --network`,
      );
    }
    const last = address & 0xff;
    if (last !== 0 && last !== 255) return intToAddress(address);
  }
}

function addressToInt(address: string): number {
  const parts = address.split(".").map(Number);
  if (
    parts.length !== 4 ||
    parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255) ||
    parts[0] !== 127
  ) {
    throw new Error(`network must be a loopback address such as 127.0.1.0 (got ${address})`);
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function intToAddress(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join(".");
}

/** A subnet's Availability Zone: fixed per subnet id, one of a, b, c. */
export function availabilityZoneOf(region: string, subnetId: string): string {
  const letter = "abc"[Number.parseInt(sha256Hex(subnetId).slice(0, 8), 16) % 3];
  return `${region}${letter}`;
}

export interface LaunchRequest {
  owner: string;
  region: string;
  groupName: string;
  launchTemplate: LaunchTemplateRecord;
  version: number;
  subnetId: string;
  /** Tags from the group (propagated at launch), after the launch template's. */
  tags: Tag[];
  reservationId: string;
}

/** Launches an instance: a record in EC2 and a boot in the runtime. Throws when EC2 would refuse. */
export function launchInstance(world: World, request: LaunchRequest): InstanceRecord {
  const template = request.launchTemplate;
  const data = template.versions.find((v) => v.versionNumber === request.version)?.data ?? {};
  const metadata = (data.MetadataOptions ?? {}) as Record<string, unknown>;
  const metadataTags = metadata.InstanceMetadataTags === "enabled";
  const tags = new Map<string, string>();
  for (const spec of (data.TagSpecifications ?? []) as { ResourceType?: string; Tags?: Tag[] }[]) {
    if (spec.ResourceType !== "instance") continue;
    for (const t of spec.Tags ?? []) tags.set(t.Key, t.Value);
  }
  for (const t of request.tags) tags.set(t.Key, t.Value);
  tags.set("aws:autoscaling:groupName", request.groupName);
  if (metadataTags) {
    for (const key of tags.keys()) {
      const problem = imdsTagKeyProblem(key);
      if (problem)
        throw new AwsError("InvalidParameterValue", `Instance launch failed: ${problem}`);
    }
  }
  const iamInstanceProfile = instanceProfileOf(world, data.IamInstanceProfile);
  const instanceId = ec2Id("i");
  const record: InstanceRecord = {
    instanceId,
    reservationId: request.reservationId,
    owner: request.owner,
    groupName: request.groupName,
    imageId: String(data.ImageId ?? "ami-00000000000000000"),
    instanceType: String(data.InstanceType ?? "t3.micro"),
    launchTemplate: { id: template.id, name: template.name, version: request.version },
    privateIp: allocateAddress(world),
    subnetId: request.subnetId,
    vpcId: vpcOf(world, data.SecurityGroupIds, request.subnetId),
    availabilityZone: availabilityZoneOf(request.region, request.subnetId),
    launchTime: world.now(),
    state: "pending",
    tags: [...tags].map(([Key, Value]) => ({ Key, Value })),
    userData: String(data.UserData ?? ""),
    metadataTags,
    ...(iamInstanceProfile ? { iamInstanceProfile } : {}),
  };
  world.store.instances.set(instanceId, record);
  world.log({
    event: "instance-launch",
    instanceId,
    privateIp: record.privateIp,
    group: request.groupName,
  });
  world.runtime.launch({
    instanceId,
    privateIp: record.privateIp,
    imageId: record.imageId,
    userDataBase64: record.userData,
  });
  return record;
}

/**
 * The instance profile a launch template names by Arn or Name; EC2 refuses the
 * launch when none has it, with its own wording.
 */
function instanceProfileOf(world: World, named: unknown): { arn: string; id: string } | undefined {
  if (typeof named !== "object" || named === null) return undefined;
  const { Arn: arn, Name: name } = named as { Arn?: unknown; Name?: unknown };
  if (arn === undefined && name === undefined) return undefined;
  const profile = [...world.store.plain.values()].find(
    (p) =>
      p.type === "AWS::IAM::InstanceProfile" &&
      (arn !== undefined ? p.attributes.Arn === arn : p.physicalId === name),
  );
  if (profile?.attributes.Arn) {
    if (!profile.uniqueId) {
      // Made by a local cloud from before unique ids were kept: give it one now.
      profile.uniqueId = `AIPA${nameSuffix(17)}`;
      world.store.touch(profile.owner);
    }
    return { arn: profile.attributes.Arn, id: profile.uniqueId };
  }
  const [parameter, value, what] = arn !== undefined ? ["arn", arn, "ARN"] : ["name", name, "name"];
  throw new AwsError(
    "InvalidParameterValue",
    `Value (${String(value)}) for parameter iamInstanceProfile.${parameter} is invalid. Invalid IAM Instance Profile ${what}`,
  );
}

/** The VPC of the instance's security groups, else one derived from its subnet. */
function vpcOf(world: World, securityGroupIds: unknown, subnetId: string): string {
  for (const id of Array.isArray(securityGroupIds) ? securityGroupIds : []) {
    const sg = world.store.plain.get(String(id)) as PlainResourceRecord | undefined;
    const vpc = sg?.properties.VpcId;
    if (typeof vpc === "string") return vpc;
  }
  return `vpc-${sha256Hex(subnetId).slice(0, 17)}`;
}

const PHASE_STATE: Partial<Record<InstancePhase, InstanceState>> = {
  booting: "pending",
  stopping: "shutting-down",
  terminated: "terminated",
};

/** The runtime reported a phase: EC2's state follows (pending while booting, then running). */
export function recordPhase(
  world: World,
  instanceId: string,
  phase: InstancePhase,
  detail: string | undefined,
): void {
  const record = world.store.instances.get(instanceId);
  if (!record) return;
  record.phase = phase;
  if (detail === undefined) delete record.phaseDetail;
  else record.phaseDetail = detail;
  if (record.state !== "terminated") {
    const next = PHASE_STATE[phase] ?? "running";
    // Once shutting down, an instance never runs again.
    if (!(record.state === "shutting-down" && next === "running")) record.state = next;
  }
  const runtimeRecord = world.runtime.records().find((r) => r.instanceId === instanceId);
  if (runtimeRecord) record.runtime = { ...runtimeRecord };
  world.store.touch(record.owner);
}

export function markTerminated(world: World, instanceId: string, reason: string): void {
  const record = world.store.instances.get(instanceId);
  if (!record) return;
  record.state = "terminated";
  record.stateReason = reason;
  record.terminatedAt = world.now();
  delete record.runtime;
  world.store.touch(record.owner);
}
