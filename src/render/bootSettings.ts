// The settings an instance reads at boot, derived from the manifest, and the
// paths on the instance that the user-data, the systemd units and the
// bootstrap script share. The same settings reach the real bootstrap (through
// user-data) and the local cloud (through readBootSettingsFromUserData).
import type { ClusterSpec } from "../manifest/types.js";
import { type BootSettings, LOGICAL_ID } from "./contract.js";

/** Where etcd keeps its data: the etcd-wrapper default, and where the data volume is mounted. */
export const ETCD_DATA_DIR = "/var/lib/etcd";
/** Written by the bootstrap: ETCD_NAME, ETCD_INITIAL_CLUSTER*, URLs, TLS files. */
export const PEERS_ENV_PATH = "/etc/quorate/peers.env";
/** Only with TLS: QUORATE_TLS_PARAMETER_PREFIX, kept apart so BootSettings stays as it is. */
export const TLS_SETTINGS_PATH = "/etc/quorate/tls.env";
/**
 * TLS files fetched from SSM. Under /etc/ssl/certs because etcd-wrapper mounts
 * that directory into the etcd container at the same path, so one path works
 * for etcd and for the bootstrap's own curl.
 */
export const TLS_DIR = "/etc/ssl/certs/etcd";
/** Only with spec.restore: what a member of the restore's new group needs to restore. */
export const RESTORE_SETTINGS_PATH = "/etc/quorate/restore.env";
/** Only with spec.restore: the bootstrap's restore step (bootstrapScript.ts restoreScript). */
export const RESTORE_SCRIPT_PATH = "/opt/quorate/bin/restore";
export const BOOTSTRAP_PATH = "/opt/quorate/bin/bootstrap";
export const UPDATE_CONF_PATH = "/etc/flatcar/update.conf";
/** Filesystem label of the data volume, so the mount does not depend on the device name. */
export const DATA_VOLUME_LABEL = "etcd-data";
/** A drop-in of systemd-timesyncd, read at its start. */
export const TIMESYNCD_CONF_PATH = "/etc/systemd/timesyncd.conf.d/10-quorate.conf";
/** Amazon Time Sync Service: link-local, so it answers without NAT or internet access. */
export const AMAZON_TIME_SYNC = "169.254.169.123";

export function bootSettingsFor(spec: ClusterSpec): BootSettings {
  return {
    cluster: spec.name,
    stackName: spec.stackName,
    region: spec.region,
    signalResource: LOGICAL_ID.group,
    etcdVersion: spec.etcd.version,
    clientPort: spec.etcd.clientPort,
    peerPort: spec.etcd.peerPort,
    scheme: spec.etcd.tls.enabled ? "https" : "http",
    dataDir: ETCD_DATA_DIR,
    heartbeatIntervalMs: spec.etcd.heartbeatIntervalMs,
    electionTimeoutMs: spec.etcd.electionTimeoutMs,
    quotaBackendBytes: spec.etcd.quotaBackendBytes,
    snapshotCount: spec.etcd.snapshotCount,
    autoCompactionMode: spec.etcd.autoCompaction.mode,
    autoCompactionRetention: spec.etcd.autoCompaction.retention,
  };
}

/**
 * timesyncd asks the Amazon Time Sync Service first; the OS's public pools
 * stay as FallbackNTP= for the rare instance where it does not answer.
 * docs/references.md#amazon-time-sync-service
 */
export function timesyncdConf(os: ClusterSpec["image"]["os"]): string {
  const pool = os === "flatcar" ? "flatcar" : "coreos";
  const fallback = [0, 1, 2, 3].map((n) => `${n}.${pool}.pool.ntp.org`).join(" ");
  return `[Time]\nNTP=${AMAZON_TIME_SYNC}\nFallbackNTP=${fallback}\n`;
}

/**
 * The restore settings file, or undefined without spec.restore. The snapshot
 * itself is not here: quorate pins it in the stack's tags when it applies the
 * restore (contract.ts STACK_TAG.restoreSnapshot), so the template does not
 * change when a newer snapshot is taken. etcdutl restores from etcd 3.5 on;
 * 3.4 has only etcdctl's (deprecated in 3.5, gone in 3.6).
 */
export function restoreSettingsFor(spec: ClusterSpec): string | undefined {
  if (!spec.restore || !spec.backup) return undefined;
  const [major = 0, minor = 0] = spec.etcd.version.split(".").map(Number);
  const tool = major > 3 || (major === 3 && minor >= 5) ? "etcdutl" : "etcdctl";
  return [
    `QUORATE_RESTORE_ID=${spec.restore.id}`,
    `QUORATE_RESTORE_BUCKET=${spec.backup.bucket}`,
    `QUORATE_RESTORE_TOOL=${tool}`,
    `QUORATE_ETCD_IMAGE=${etcdImageOf(spec.etcd.version)}`,
    "",
  ].join("\n");
}

/** The image of an etcd version (see systemdUnits.ts etcdImage). */
export function etcdImageOf(version: string): string {
  return `quay.io/coreos/etcd:v${version}`;
}

/** The TLS settings file, or undefined when TLS is off. */
export function tlsSettingsFor(spec: ClusterSpec): string | undefined {
  if (!spec.etcd.tls.enabled) return undefined;
  return `QUORATE_TLS_PARAMETER_PREFIX=${spec.etcd.tls.parameterPrefix ?? ""}\n`;
}
