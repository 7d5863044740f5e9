// The typed, defaulted form of an EtcdCluster manifest. Everything downstream
// (render, plan, gates, reconcile) takes a ClusterSpec and never the raw YAML.
// Field meanings are documented once, in schemas/cluster.schema.json.

export const API_VERSION = "quorate.dev/v1alpha1";
export const KIND = "EtcdCluster";

/** Where a manifest came from, so that every later error can point back at it. */
export interface SourceLocation {
  file: string;
  /** 1-based line of the document's first key. */
  line: number;
  column: number;
  /** 0-based index of the YAML document within the file. */
  document: number;
}

/** The root device of Flatcar's (and Container Linux's) AMIs; the data volume needs another. */
export const ROOT_DEVICE_NAME = "/dev/xvda";

export type FlatcarChannel = "stable" | "beta" | "alpha" | "lts";
export type ImageOs = "flatcar" | "coreos-legacy";

/**
 * The image, as written. `imageId` pins an AMI; otherwise a Flatcar
 * `channel` + `version` is resolved to an AMI through the release feed.
 */
export interface ImageSpec {
  os: ImageOs;
  channel: FlatcarChannel;
  version?: string;
  imageId?: string;
}

export type VpcEndpointService = "cloudformation" | "ssm" | "s3";

export interface NetworkSpec {
  vpcId: string;
  subnetIds: string[];
  /** none: private subnets without NAT; members reach AWS only through vpcEndpoints. */
  egress: "internet" | "none";
  vpcEndpoints: VpcEndpointService[];
  /** CIDRs allowed to reach the client port. Peers always reach each other. */
  clientCidrs: string[];
}

export interface DataVolumeSpec {
  sizeGiB: number;
  type: "gp3" | "gp2" | "io1" | "io2";
  iops?: number;
  throughput?: number;
  deviceName: string;
}

export interface TlsSpec {
  enabled: boolean;
  /** SSM Parameter Store prefix the instance reads its certificates from. */
  parameterPrefix?: string;
}

export interface AutoCompactionSpec {
  mode: "periodic" | "revision";
  /** A duration (1h, 30m) for periodic, a count of revisions for revision; "0" is off. */
  retention: string;
}

export interface EtcdSpec {
  version: string;
  clientPort: number;
  peerPort: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  quotaBackendBytes: number;
  snapshotCount: number;
  autoCompaction: AutoCompactionSpec;
  tls: TlsSpec;
  dataVolume: DataVolumeSpec;
}

/** launchFirst: add the replacement before the old member leaves; terminateFirst: the reverse. */
export type UpdateOrder = "launchFirst" | "terminateFirst";

export interface UpdatePolicySpec {
  order: UpdateOrder;
  maxBatchSize: number;
  minInstancesInService: number;
  /** ISO 8601 duration, CloudFormation's PauseTime and CreationPolicy timeout. */
  signalTimeout: string;
  /** ISO 8601 duration, each lifecycle hook's HeartbeatTimeout. */
  lifecycleHookTimeout: string;
}

export interface GatePolicy {
  /** ISO 8601 duration every check must hold before a step proceeds. */
  stableFor: string;
  /** Largest raft applied-index distance between a member and the leader. */
  maxAppliedIndexLag: number;
  /** ISO 8601 duration a failed gate may hold a rollout before it is cancelled. */
  abortAfter: string;
  /** ISO 8601 duration after which a member whose instance is gone is removed. */
  deadMemberGrace: string;
  /** ISO 8601 duration each probe of a member may take. */
  probeTimeout: string;
}

export type SnapshotEncryption = "SSE-S3" | "SSE-KMS";

export interface BackupSpec {
  bucket: string;
  /** Ends with "/"; defaults to "<name>/". */
  prefix: string;
  /** ISO 8601 duration between scheduled snapshots in `quorate run`. */
  every: string;
  retention: { keepLast: number; deleteAfter?: string };
  beforeChange: boolean;
  /** ISO 8601 duration: how recent the snapshot beforeChange asks for must be. */
  maxAge: string;
  encryption: { type: SnapshotEncryption; kmsKeyId?: string };
}

export interface RestoreSpec {
  id: string;
  /** "latest" or an S3 key under the backup prefix. */
  snapshot: string;
}

/** What `quorate run` may do to the members' databases on its own. */
export interface MaintenanceSpec {
  autoDefrag: boolean;
  /** 0..1: defragment a member whose dbSizeInUse / dbSize falls under it. */
  fragmentationThreshold: number;
  /** Databases smaller than this are never defragmented automatically. */
  minDbSizeBytes: number;
  /** ISO 8601 duration between two automatic defragmentations of the cluster. */
  minInterval: string;
}

/** The IAM role quorate assumes for everything about a cluster in another account. */
export interface AccountSpec {
  roleArn: string;
  externalId?: string;
  /** Defaults to quorate-<name>: CloudTrail shows it with every call. */
  sessionName: string;
}

export interface ClusterSpec {
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  source: SourceLocation;
  region: string;
  /** Absent: the account of the ambient credentials. */
  account?: AccountSpec;
  stackName: string;
  size: number;
  instanceType: string;
  keyName?: string;
  /** Customer-managed KMS key of both volumes; absent: aws/ebs. */
  kmsKeyId?: string;
  image: ImageSpec;
  network: NetworkSpec;
  etcd: EtcdSpec;
  updatePolicy: UpdatePolicySpec;
  gates: GatePolicy;
  /** Absent: no snapshots are taken. */
  backup?: BackupSpec;
  /** Present: the cluster is (or is to be) restored from a snapshot. Needs backup. */
  restore?: RestoreSpec;
  maintenance: MaintenanceSpec;
  suspend: boolean;
  prune: boolean;
  terminationProtection: boolean;
  /** Extra stack tags; they reach the instances, so keys follow IMDS tag rules. */
  tags: Record<string, string>;
}
