// The local cloud's mirror of the bootstrap's restore step
// (src/render/bootstrapScript.ts): a member of a restore's new group fetches
// the snapshot quorate pinned in the stack's tags, checks its sha256, and
// restores it with etcdctl into an empty data directory, before etcd starts.
// The AWS CLI container's `s3 cp` becomes a read of the local cloud's own
// object store; the etcd image's restore tool becomes the host's etcdctl
// (Debian's 3.4, the etcd every local member runs).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import type { PeerList } from "../../render/contract.js";
import type { RestoreSettings } from "../../render/readUserData.js";
import type { InstancePaths } from "./etcdCommand.js";

const run = promisify(execFile);

export interface SnapshotRestore {
  settings: RestoreSettings;
  snapshotKey: string;
  sha256: string;
  instanceId: string;
  peerUrl: string;
  peers: PeerList;
  paths: InstancePaths;
  etcdBinary: string;
  readObject(bucket: string, key: string): Readable | undefined;
}

/** Whether the member's data directory holds a member already (a reboot keeps its data). */
export function hasMemberData(paths: InstancePaths): boolean {
  return existsSync(join(paths.etcdDataDir, "member"));
}

/** Returns a sentence for the log; throws with the reason when it cannot restore. */
export async function restoreSnapshot(r: SnapshotRestore): Promise<string> {
  const where = `s3://${r.settings.bucket}/${r.snapshotKey}`;
  const body = r.readObject(r.settings.bucket, r.snapshotKey);
  if (!body) throw new Error(`${where} does not exist; not restoring`);
  const work = join(r.paths.dir, "quorate-restore");
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const file = join(work, "snapshot.db");
  const hash = createHash("sha256");
  body.on("data", (chunk: Buffer) => hash.update(chunk));
  await pipeline(body, createWriteStream(file));
  const got = hash.digest("hex");
  if (got !== r.sha256)
    throw new Error(`${where} has sha256 ${got}, quorate pinned ${r.sha256}; not restoring`);
  const etcdctl = join(dirname(r.etcdBinary), "etcdctl");
  await run(
    existsSync(etcdctl) ? etcdctl : "etcdctl",
    [
      "snapshot",
      "restore",
      file,
      `--name=${r.instanceId}`,
      `--initial-cluster=${r.peers.initialCluster}`,
      `--initial-cluster-token=${r.peers.token}`,
      `--initial-advertise-peer-urls=${r.peerUrl}`,
      `--data-dir=${join(work, "data")}`,
    ],
    { env: { ...process.env, ETCDCTL_API: "3" } },
  );
  await mkdir(r.paths.etcdDataDir, { recursive: true, mode: 0o700 });
  await rename(join(work, "data", "member"), join(r.paths.etcdDataDir, "member"));
  await rm(work, { recursive: true, force: true });
  return `restored ${where} (restore ${r.settings.id})`;
}
