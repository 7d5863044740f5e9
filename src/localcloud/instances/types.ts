// The seam between the local cloud's engine (CloudFormation, Auto Scaling, EC2)
// and the instance runtime that makes each EC2 instance a real etcd process.
// The engine decides WHEN an instance launches or terminates; the runtime
// decides HOW (processes, instance metadata, the boot that mirrors the rendered
// bootstrap script).
import type { Readable } from "node:stream";

export type SignalStatus = "SUCCESS" | "FAILURE";

export type InstancePhase =
  | "booting" // the stand-in for EC2 boot time (bootDelayMs)
  | "waiting-for-peers" // bootstrap polls its instance tags for the peer list
  | "restoring" // a restore's member restores the pinned snapshot into its data dir
  | "starting-etcd"
  | "running" // etcd is up; the bootstrap waits until it is healthy and voting
  | "signalled" // the success signal was sent
  | "etcd-exited" // etcd stopped on its own or was killed
  | "boot-failed" // the bootstrap gave up (unreadable user-data, etcd would not start); no signal, as the script
  | "paused" // SIGSTOP by fault injection
  | "stopping"
  | "terminated";

/** Callbacks the engine gives the runtime. */
export interface InstanceHost {
  /** The instance's current EC2 tags; instance metadata serves these. */
  instanceTags(instanceId: string): Record<string, string>;
  /** What cfn-signal does on AWS: SignalResource for the group with UniqueId = instanceId. */
  signal(instanceId: string, status: SignalStatus, reason: string): void;
  /** Phase changes, for state, logs and DescribeInstances. */
  onPhase(instanceId: string, phase: InstancePhase, detail?: string): void;
  /** An S3 object's body (what the AWS CLI's `s3 cp` reads), or undefined when there is none. */
  readObject(bucket: string, key: string): Readable | undefined;
}

/** What the engine knows about an instance when it hands it to the runtime. */
export interface InstanceSpec {
  instanceId: string;
  /** Loopback address of its own (127.x.y.z); etcd and instance metadata listen here. */
  privateIp: string;
  imageId: string;
  /** Base64 user-data from the launch template, as EC2 would pass it. */
  userDataBase64: string;
}

/** What the runtime persists per instance so that a restarted local cloud can adopt it. */
export interface RuntimeRecord {
  instanceId: string;
  privateIp: string;
  phase: InstancePhase;
  /** pid of the etcd process, while one runs. */
  pid?: number;
  /** True once etcd has been started with a peer list (its data dir then holds a member). */
  etcdStarted: boolean;
  /** The signal the bootstrap sent, if any: it signals once, and a restore must not signal again. */
  signal?: SignalStatus;
}

export interface InstanceRuntimeOptions {
  /** Root for per-instance data directories: <dataDir>/<instanceId>/. */
  dataDir: string;
  /** etcd binary; default "etcd" from PATH. */
  etcdBinary?: string;
  /** Stand-in for EC2 boot time before the bootstrap runs. */
  bootDelayMs: number;
  /** SIGTERM, then SIGKILL after this long. */
  stopGraceMs: number;
  /** Port of each instance's metadata service on its own address (AWS uses 169.254.169.254:80). */
  imdsPort: number;
  host: InstanceHost;
  /** Scale tests only: instances without etcd processes; they signal right after boot. Says so in logs. */
  withoutEtcd?: boolean;
  log?: (event: Record<string, unknown>) => void;
}

export interface InstanceRuntime {
  /** Starts the boot asynchronously; returns at once. */
  launch(spec: InstanceSpec): void;
  /** SIGTERM, SIGKILL after the grace period, then removes the instance's data and metadata service. */
  terminate(instanceId: string): Promise<void>;
  /** After a local-cloud restart: adopt a live etcd by pid, or restart it on its data dir, or re-run the boot. */
  restore(spec: InstanceSpec, record: RuntimeRecord): Promise<void>;
  /** Fault injection. */
  killEtcd(instanceId: string, signal?: NodeJS.Signals): void;
  pauseEtcd(instanceId: string): void;
  resumeEtcd(instanceId: string): void;
  /** Restart etcd on its existing data dir (a member that comes back). */
  restartEtcd(instanceId: string): Promise<void>;
  records(): RuntimeRecord[];
  /** Stops every process (local down); the data stays. */
  stopAll(): Promise<void>;
  /**
   * Forgets every instance without stopping its etcd and closes the metadata
   * services: what a local cloud killed with SIGKILL leaves behind, for a later
   * restore to adopt (crash tests use it to simulate that crash in-process).
   */
  detach(): Promise<void>;
}
