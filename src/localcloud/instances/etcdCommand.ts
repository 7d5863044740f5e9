// The etcd command line an instance runs, and how to read why it died. Pure:
// the process handling is in etcdProcess.ts.
// Flags: https://etcd.io/docs/v3.4/op-guide/configuration/
import { join } from "node:path";
import type { BootSettings, PeerList } from "../../render/contract.js";

/** Where one instance keeps its files: <dataDir>/<instanceId>/. */
export interface InstancePaths {
  dir: string;
  etcdDataDir: string;
  etcdLog: string;
  pidFile: string;
  /** The peer list etcd was first started with, for restarts. */
  peersFile: string;
}

export function instancePaths(dataDir: string, instanceId: string): InstancePaths {
  const dir = join(dataDir, instanceId);
  return {
    dir,
    etcdDataDir: join(dir, "etcd"),
    etcdLog: join(dir, "etcd.log"),
    pidFile: join(dir, "etcd.pid"),
    peersFile: join(dir, "peers.json"),
  };
}

export interface EtcdMember {
  instanceId: string;
  privateIp: string;
  paths: InstancePaths;
  settings: Pick<
    BootSettings,
    | "clientPort"
    | "peerPort"
    | "heartbeatIntervalMs"
    | "electionTimeoutMs"
    | "quotaBackendBytes"
    | "snapshotCount"
    | "autoCompactionMode"
    | "autoCompactionRetention"
  >;
}

export function clientUrl(member: Pick<EtcdMember, "privateIp" | "settings">): string {
  return `http://${member.privateIp}:${member.settings.clientPort}`;
}

export function peerUrl(member: Pick<EtcdMember, "privateIp" | "settings">): string {
  return `http://${member.privateIp}:${member.settings.peerPort}`;
}

/**
 * `--flag=value` pairs (one argv entry each, so /proc/<pid>/cmdline can be
 * matched exactly). The peer list is omitted on a restart when it is not
 * known: etcd ignores the --initial-* flags once its data dir holds a member.
 */
export function etcdArgs(
  member: EtcdMember,
  peers: PeerList | undefined,
  state: "new" | "existing",
): string[] {
  const { settings, paths } = member;
  const args = [
    `--name=${member.instanceId}`,
    `--data-dir=${paths.etcdDataDir}`,
    `--listen-peer-urls=${peerUrl(member)}`,
    `--initial-advertise-peer-urls=${peerUrl(member)}`,
    `--listen-client-urls=${clientUrl(member)}`,
    `--advertise-client-urls=${clientUrl(member)}`,
  ];
  if (peers) {
    args.push(
      `--initial-cluster=${peers.initialCluster}`,
      `--initial-cluster-token=${peers.token}`,
    );
  }
  args.push(
    `--initial-cluster-state=${state}`,
    `--heartbeat-interval=${settings.heartbeatIntervalMs}`,
    `--election-timeout=${settings.electionTimeoutMs}`,
    `--quota-backend-bytes=${settings.quotaBackendBytes}`,
    `--snapshot-count=${settings.snapshotCount}`,
    `--auto-compaction-mode=${settings.autoCompactionMode}`,
    `--auto-compaction-retention=${settings.autoCompactionRetention}`,
    "--enable-v2=false",
    "--logger=zap",
    `--log-outputs=${paths.etcdLog}`,
  );
  return args;
}

/** True when an argv (from /proc/<pid>/cmdline) is the etcd of this instance. */
export function isEtcdOfInstance(
  argv: string[],
  paths: InstancePaths,
  instanceId: string,
): boolean {
  const program = argv[0] ?? "";
  return (
    /(^|\/)etcd$/.test(program) &&
    argv.includes(`--data-dir=${paths.etcdDataDir}`) &&
    argv.includes(`--name=${instanceId}`)
  );
}

const FAILURE_LEVELS = new Set(["error", "fatal", "panic"]);
const MAX_REASON = 240;

/**
 * Why etcd stopped, from the log it wrote since it started: the last zap
 * line at error level or worse, or else the last plain line (flag errors go to
 * stderr before the logger exists). Undefined when the log says nothing.
 */
export function etcdFailureReason(logText: string): string | undefined {
  const lines = logText.split("\n").filter((line) => line.trim() !== "");
  let plain: string | undefined;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? "";
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      plain ??= line.trim();
      continue;
    }
    const { level, msg, error } = entry as { level?: unknown; msg?: unknown; error?: unknown };
    if (typeof level === "string" && FAILURE_LEVELS.has(level) && typeof msg === "string") {
      return truncate(typeof error === "string" ? `${msg}: ${error}` : msg);
    }
  }
  return plain === undefined ? undefined : truncate(plain);
}

function truncate(text: string): string {
  return text.length <= MAX_REASON ? text : `${text.slice(0, MAX_REASON - 3)}...`;
}
