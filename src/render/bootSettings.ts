// The settings an instance reads at boot, derived from the manifest. The same
// values reach the real bootstrap (through user-data) and the local cloud
// (through readBootSettingsFromUserData), so they are computed in one place.
import type { ClusterSpec } from "../manifest/types.js";
import { type BootSettings, LOGICAL_ID } from "./contract.js";

/** Where etcd keeps its data; the data volume is mounted here. */
export const ETCD_DATA_DIR = "/var/lib/etcd";

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
  };
}
