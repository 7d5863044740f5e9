// The names and formats that the rendered stack shares with everything that
// reads it: quorate's supervisor, the instance bootstrap, and the local cloud.
// Keeping them in one module is what stops those three from drifting apart.

/**
 * Stack tags. CloudFormation copies stack tags onto every instance of the
 * group, and instances with metadata tags on refuse tag keys containing "/"
 * (docs/references.md#imds-tag-keys: such launches fail). So the keys use ":".
 */
export const STACK_TAG = {
  cluster: "quorate.dev:cluster",
  revision: "quorate.dev:revision",
  templateSha256: "quorate.dev:template-sha256",
  managedBy: "quorate.dev:managed-by",
  /** Whether deleting the manifest may delete the stack: read when the manifest is gone. */
  prune: "quorate.dev:prune",
  /** Which quorate applied the stack (its --owner): each acts only on its own stacks. */
  owner: "quorate.dev:owner",
  /**
   * A restore quorate applied (spec.restore.id) and the snapshot it pinned for
   * it: `latest` is resolved once, when the restore is first applied, and kept
   * here so that later snapshots never change what the group restores. Stack
   * tags reach every instance of the group, so the bootstrap reads them too.
   */
  restoreId: "quorate.dev:restore-id",
  restoreSnapshot: "quorate.dev:restore-snapshot",
  restoreSha256: "quorate.dev:restore-sha256",
  restoreRevision: "quorate.dev:restore-revision",
} as const;

/**
 * Tags quorate writes on the cluster's Auto Scaling group itself, outside any
 * template (CreateOrUpdateTags, PropagateAtLaunch false): CloudFormation applies
 * only the tags the template and the stack declare, so an update keeps them,
 * and writing one is no stack operation.
 */
export const GROUP_TAG = {
  /** Per-member durations of the last rollouts (plan/rolloutHistory.ts): what a plan's expected duration comes from. */
  rolloutHistory: "quorate.dev:rollout-history",
} as const;

/** Instance tags through which quorate hands a new member its peer list. */
export const INSTANCE_TAG = {
  initialClusterState: "quorate.dev:initial-cluster-state",
  initialClusterToken: "quorate.dev:initial-cluster-token",
  initialClusterParts: "quorate.dev:initial-cluster-parts",
  initialClusterPartPrefix: "quorate.dev:initial-cluster.",
} as const;

/** EC2 tag values hold at most 256 characters. */
export const TAG_VALUE_MAX = 256;

export const LOGICAL_ID = {
  securityGroup: "EtcdSecurityGroup",
  peerIngress: "EtcdPeerIngress",
  peerClientIngress: "EtcdPeerClientIngress",
  role: "EtcdRole",
  instanceProfile: "EtcdInstanceProfile",
  launchTemplate: "EtcdLaunchTemplate",
  group: "EtcdGroup",
} as const;

export const HOOK_NAME = {
  launching: "quorate-launching",
  terminating: "quorate-terminating",
} as const;

/**
 * The group of a restore is named after it: a new name is what makes
 * CloudFormation create a new group (AutoScalingGroupName requires
 * replacement) and remove the old one once the new one has signalled.
 */
export function restoreGroupName(stackName: string, restoreId: string): string {
  return `${stackName}-restore-${restoreId}`;
}

/** Path, inside the user-data, of the etcd settings file the bootstrap reads. */
export const BOOT_SETTINGS_PATH = "/etc/quorate/etcd.env";

/** What an instance needs to start its etcd member, besides its peer list. */
export interface BootSettings {
  cluster: string;
  stackName: string;
  region: string;
  /** Logical id of the group, which the bootstrap signals. */
  signalResource: string;
  etcdVersion: string;
  clientPort: number;
  peerPort: number;
  scheme: "http" | "https";
  dataDir: string;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  quotaBackendBytes: number;
  snapshotCount: number;
  autoCompactionMode: "periodic" | "revision";
  autoCompactionRetention: string;
}

const BOOT_KEYS: Record<keyof BootSettings, string> = {
  cluster: "QUORATE_CLUSTER",
  stackName: "QUORATE_STACK_NAME",
  region: "QUORATE_REGION",
  signalResource: "QUORATE_SIGNAL_RESOURCE",
  etcdVersion: "QUORATE_ETCD_VERSION",
  clientPort: "QUORATE_CLIENT_PORT",
  peerPort: "QUORATE_PEER_PORT",
  scheme: "QUORATE_SCHEME",
  dataDir: "ETCD_DATA_DIR",
  heartbeatIntervalMs: "ETCD_HEARTBEAT_INTERVAL",
  electionTimeoutMs: "ETCD_ELECTION_TIMEOUT",
  quotaBackendBytes: "ETCD_QUOTA_BACKEND_BYTES",
  snapshotCount: "ETCD_SNAPSHOT_COUNT",
  autoCompactionMode: "ETCD_AUTO_COMPACTION_MODE",
  autoCompactionRetention: "ETCD_AUTO_COMPACTION_RETENTION",
};

const NUMERIC: ReadonlySet<keyof BootSettings> = new Set([
  "clientPort",
  "peerPort",
  "heartbeatIntervalMs",
  "electionTimeoutMs",
  "quotaBackendBytes",
  "snapshotCount",
]);

/** An environment file (KEY=VALUE lines, fixed order) for systemd's EnvironmentFile=. */
export function encodeBootSettings(settings: BootSettings): string {
  const fields = Object.keys(BOOT_KEYS) as (keyof BootSettings)[];
  return `${fields.map((field) => `${BOOT_KEYS[field]}=${settings[field]}`).join("\n")}\n`;
}

export function decodeBootSettings(text: string): BootSettings {
  const env = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && !line.startsWith("#"))
      env.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  const out: Record<string, string | number> = {};
  for (const [field, key] of Object.entries(BOOT_KEYS) as [keyof BootSettings, string][]) {
    const value = env.get(key);
    if (value === undefined) throw new Error(`boot settings: ${key} is missing`);
    out[field] = NUMERIC.has(field) ? Number(value) : value;
  }
  if (out.scheme !== "http" && out.scheme !== "https") {
    throw new Error(`boot settings: QUORATE_SCHEME must be http or https (got ${out.scheme})`);
  }
  return out as unknown as BootSettings;
}

/** The peer list quorate publishes to a new instance. */
export interface PeerList {
  state: "new" | "existing";
  token: string;
  /** etcd --initial-cluster: name=peerURL pairs joined by commas. */
  initialCluster: string;
}

/** Tags that carry a peer list; a long list is split across numbered tags. */
export function peerListTags(peers: PeerList): Record<string, string> {
  const parts: string[] = [];
  for (let i = 0; i < peers.initialCluster.length; i += TAG_VALUE_MAX) {
    parts.push(peers.initialCluster.slice(i, i + TAG_VALUE_MAX));
  }
  const tags: Record<string, string> = {
    [INSTANCE_TAG.initialClusterState]: peers.state,
    [INSTANCE_TAG.initialClusterToken]: peers.token,
    [INSTANCE_TAG.initialClusterParts]: String(parts.length),
  };
  parts.forEach((part, i) => {
    tags[`${INSTANCE_TAG.initialClusterPartPrefix}${i}`] = part;
  });
  return tags;
}

/**
 * Reads a peer list back from instance tags. Returns undefined until every
 * part is present, because tags may become visible one at a time.
 */
export function readPeerListTags(tags: Record<string, string>): PeerList | undefined {
  const state = tags[INSTANCE_TAG.initialClusterState];
  const token = tags[INSTANCE_TAG.initialClusterToken];
  const count = Number(tags[INSTANCE_TAG.initialClusterParts]);
  if (
    (state !== "new" && state !== "existing") ||
    !token ||
    !Number.isInteger(count) ||
    count < 1
  ) {
    return undefined;
  }
  let initialCluster = "";
  for (let i = 0; i < count; i++) {
    const part = tags[`${INSTANCE_TAG.initialClusterPartPrefix}${i}`];
    if (part === undefined) return undefined;
    initialCluster += part;
  }
  return { state, token, initialCluster };
}
