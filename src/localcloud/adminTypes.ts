// The JSON of the local cloud's admin API (/_quorate/...), shared by the
// server (admin.ts) and its typed client (adminClient.ts).
import type { FaultList, ResourcePhase } from "./faults.js";

export interface StackSummary {
  stackName: string;
  stackId: string;
  status: string;
  statusReason?: string;
  operation?: { kind: string; stage: string; halted: boolean; step?: string };
  resources: { logicalId: string; type: string; physicalId?: string; status: string }[];
  changeSets: { name: string; status: string; executionStatus: string }[];
}

export interface GroupSummary {
  name: string;
  stackId: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  launchTemplate: { id: string; version: string };
  suspendedProcesses: string[];
  heldBy?: string;
  instances: {
    instanceId: string;
    lifecycleState: string;
    healthStatus: string;
    version: number;
  }[];
}

export interface InstanceSummary {
  instanceId: string;
  group?: string;
  state: string;
  privateIp: string;
  imageId: string;
  phase?: string;
  phaseDetail?: string;
  pid?: number;
}

/** One account of the local cloud (GET /_quorate/accounts). */
export interface AccountSummary {
  accountId: string;
  /** Its instances get the loopback addresses after this one. */
  network: string;
  stacks: number;
  instances: number;
}

export interface LocalCloudSnapshot {
  /** The account this snapshot is of (?account=, default 000000000000). */
  accountId: string;
  endpoint: string;
  dataDir: string;
  network: string;
  timeScale: number;
  pid: number;
  startedAt: string;
  stacks: StackSummary[];
  groups: GroupSummary[];
  instances: InstanceSummary[];
}

export interface ThrottleRequest {
  service: "cloudformation" | "autoscaling" | "ec2";
  action: string;
  count: number;
}

export interface SignalFaultRequest {
  mode: "drop" | "delay";
  instanceId?: string;
  delayMs?: number;
  count?: number;
}

export interface ResourceFaultRequest {
  stackName: string;
  logicalId: string;
  phase: ResourcePhase;
  count?: number;
  message?: string;
}

export interface ChangeSetFaultRequest {
  stackName: string;
  /** The StatusReason the change set fails with. */
  reason: string;
  /** Unlimited when absent. */
  count?: number;
}

export interface S3FaultRequest {
  /** fail: writes get InternalError; truncate: the next object is stored cut short. */
  mode: "fail" | "truncate";
  bucket?: string;
  keyPrefix?: string;
  /** truncate: bytes kept (default half of the object). */
  bytes?: number;
  /** Unlimited when absent. */
  count?: number;
}

export interface S3CorruptRequest {
  bucket: string;
  key: string;
  /** Byte to flip; the middle of the object when absent. */
  offset?: number;
}

export type InstanceFaultAction = "kill" | "pause" | "resume" | "restart" | "fail" | "recover";

export type { FaultList };

/** PUT /_quorate/iam: the identity policy every call is evaluated against from now on. */
export interface IamPolicyRequest {
  policy: object;
  /** The caller's principal tags (aws:PrincipalTag/<key>), for policies that compare resource tags with them. */
  principalTags?: Record<string, string>;
}

/** GET /_quorate/iam. */
export interface IamReport {
  enforcing: boolean;
  evaluated: {
    principal: string;
    request: { action: string; resource: string; context: Record<string, string | string[]> };
    allowed: boolean;
  }[];
}
