// Taking, listing, checking and pruning snapshots: the IO around the pure
// catalog, retention and member choice. A snapshot streams from the member
// through a sha256 straight into a multipart upload; nothing holds it whole,
// in memory or on disk. Its manifest is written only after the stored object
// was seen to have every byte, so nothing cut short ever looks good.
import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { AwsClientPool, AwsClients } from "../../aws/clients.js";
import { describeGroups } from "../../aws/groups.js";
import { describeInstances } from "../../aws/instances.js";
import { createSnapshotBucket, type SnapshotBucket } from "../../aws/snapshotBucket.js";
import { describeStack } from "../../aws/stacks.js";
import { terminal, transient } from "../../errors.js";
import type { EtcdClientOptions } from "../../etcd/client.js";
import { probeCluster } from "../../etcd/probe.js";
import { type SnapshotStreamStats, snapshotBytes } from "../../etcd/snapshotStream.js";
import type { ClusterProbe } from "../../etcd/types.js";
import { hexId } from "../../etcd/wire.js";
import { durationMs } from "../../manifest/duration.js";
import { API_VERSION, type BackupSpec, type ClusterSpec } from "../../manifest/types.js";
import { MEMBER_STATES } from "../rollout/observation.js";
import {
  buildCatalog,
  SNAPSHOT_KIND,
  type Snapshot,
  type SnapshotManifest,
  snapshotId,
  snapshotKeys,
} from "./catalog.js";
import { chooseSnapshotMember } from "./memberChoice.js";
import { BROKEN_GRACE_MS, type RetentionVerdict, retentionPlan } from "./retention.js";

export interface SnapshotDeps {
  aws: AwsClientPool;
  etcd: EtcdClientOptions;
  signal?: AbortSignal;
  now?: () => Date;
}

export interface TakenSnapshot {
  manifest: SnapshotManifest;
  durationMs: number;
  /** What retention deleted afterwards. */
  pruned: RetentionVerdict[];
}

export function bucketFor(deps: Pick<SnapshotDeps, "aws">, spec: ClusterSpec): SnapshotBucket {
  const backup = requireBackup(spec);
  return createSnapshotBucket(deps.aws(spec.region, spec.account).s3, backup);
}

export function requireBackup(spec: ClusterSpec): BackupSpec {
  if (!spec.backup) {
    throw terminal(
      `cluster ${spec.name} has no spec.backup`,
      "add spec.backup with a bucket to its manifest (see the README, Backups and restore)",
    );
  }
  return spec.backup;
}

/** The client URLs of the cluster's members: the live stack's group, its instances' addresses. */
export async function memberEndpoints(aws: AwsClients, spec: ClusterSpec): Promise<string[]> {
  const stack = await describeStack(aws.cloudFormation, spec.stackName);
  const groupName = stack?.outputs.GroupName;
  if (!stack || !groupName) {
    throw terminal(
      `cluster ${spec.name} has no stack ${spec.stackName} (or it has no group yet)`,
      "apply the cluster first",
    );
  }
  const group = (await describeGroups(aws.autoScaling, [groupName])).get(groupName);
  const ids = (group?.instances ?? [])
    .filter((i) => MEMBER_STATES.has(i.lifecycleState))
    .map((i) => i.instanceId);
  const instances = await describeInstances(aws.ec2, ids);
  const scheme = spec.etcd.tls.enabled ? "https" : "http";
  return ids.flatMap((id) => {
    const ip = instances.get(id)?.privateIp;
    return ip ? [`${scheme}://${ip}:${spec.etcd.clientPort}`] : [];
  });
}

export async function probeMembers(
  deps: SnapshotDeps,
  spec: ClusterSpec,
): Promise<ClusterProbe | undefined> {
  const endpoints = await memberEndpoints(deps.aws(spec.region, spec.account), spec);
  if (endpoints.length === 0) return undefined;
  return probeCluster(endpoints, {
    ...deps.etcd,
    timeoutMs: durationMs(spec.gates.probeTimeout),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
}

/** Every snapshot under the cluster's prefix, newest first, judged (catalog.ts). */
export async function readCatalog(bucket: SnapshotBucket): Promise<Snapshot[]> {
  const listed = await bucket.list();
  const manifestKeys = listed.map((o) => o.key).filter((k) => k.endsWith(".manifest.json"));
  const manifests = new Map<string, unknown>();
  // A few at a time: retention keeps tens of snapshots, not thousands.
  for (let i = 0; i < manifestKeys.length; i += 8) {
    const batch = manifestKeys.slice(i, i + 8);
    const read = await Promise.all(batch.map((key) => bucket.getJson(key)));
    for (const [j, key] of batch.entries()) manifests.set(key, read[j]);
  }
  return buildCatalog(bucket.prefix, listed, manifests);
}

/**
 * Takes one snapshot now: chooses a member from `probe` (or probes the
 * cluster), streams it to S3, checks what S3 stored, writes the manifest,
 * then runs retention. Throws a transient error when it cannot; whatever it
 * uploaded is deleted again, so a failure leaves nothing that looks good.
 */
export async function takeSnapshot(
  deps: SnapshotDeps,
  spec: ClusterSpec,
  probe?: ClusterProbe,
): Promise<TakenSnapshot> {
  const backup = requireBackup(spec);
  const now = deps.now ?? (() => new Date());
  const bucket = bucketFor(deps, spec);
  const seen = probe ?? (await probeMembers(deps, spec));
  const choice = seen
    ? chooseSnapshotMember(seen)
    : { problem: "the cluster has no instances with an address" };
  if ("problem" in choice) {
    throw transient(
      `cannot take a snapshot of ${spec.name}: ${choice.problem}`,
      "wait until a member is healthy, or restore from an earlier snapshot",
    );
  }
  const { source } = choice;
  const takenAt = now();
  const id = snapshotId(takenAt);
  const { objectKey, manifestKey } = snapshotKeys(backup.prefix, id);
  const stats: SnapshotStreamStats = { bytes: 0 };
  const body = snapshotBytes(source.endpoint, stats, {
    ...(deps.etcd.tls ? { tls: deps.etcd.tls } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  const discard = async () => {
    await bucket.remove(objectKey).catch(() => undefined);
  };
  try {
    await bucket.upload(objectKey, body, {
      cluster: spec.name,
      revision: String(source.revision),
      member: source.name,
    });
  } catch (error) {
    await discard();
    throw transient(
      `snapshot of ${spec.name} from ${source.name} failed after ${stats.bytes} bytes: ${(error as Error).message}`,
      "nothing was kept; it is taken again on the next try",
      error,
    );
  }
  const stored = await bucket.size(objectKey);
  if (stats.sha256 === undefined || stored !== stats.bytes) {
    await discard();
    throw transient(
      `snapshot of ${spec.name} is incomplete: S3 holds ${stored ?? 0} of the ${stats.bytes} bytes streamed`,
      "the object was deleted; it is taken again on the next try",
    );
  }
  const completedAt = now();
  const manifest: SnapshotManifest = {
    apiVersion: API_VERSION,
    kind: SNAPSHOT_KIND,
    cluster: spec.name,
    id,
    object: objectKey,
    revision: String(source.revision),
    etcdVersion: source.etcdVersion,
    member: { name: source.name, id: hexId(source.memberId), endpoint: source.endpoint },
    size: stats.bytes,
    sha256: stats.sha256,
    takenAt: takenAt.toISOString(),
    completedAt: completedAt.toISOString(),
  };
  try {
    await bucket.putJson(manifestKey, manifest);
  } catch (error) {
    await discard();
    throw error;
  }
  const pruned = await pruneSnapshots(bucket, backup, completedAt);
  return { manifest, durationMs: completedAt.getTime() - takenAt.getTime(), pruned };
}

/** Retention (retention.ts) over what is in the bucket now; the manifest goes first, so a half-deleted snapshot is never good. */
export async function pruneSnapshots(
  bucket: SnapshotBucket,
  backup: BackupSpec,
  now: Date,
): Promise<RetentionVerdict[]> {
  const verdicts = retentionPlan(
    await readCatalog(bucket),
    {
      keepLast: backup.retention.keepLast,
      ...(backup.retention.deleteAfter
        ? { deleteAfterMs: durationMs(backup.retention.deleteAfter) }
        : {}),
      brokenGraceMs: BROKEN_GRACE_MS,
    },
    now,
  );
  for (const { snapshot } of verdicts) {
    await bucket.remove(snapshot.manifestKey);
    await bucket.remove(snapshot.objectKey);
  }
  return verdicts;
}

/**
 * Reads a snapshot back and compares its sha256 with the manifest's: what a
 * restore does before any change set. Returns the problem, or undefined.
 */
export async function verifySnapshot(
  bucket: SnapshotBucket,
  snapshot: Snapshot,
): Promise<string | undefined> {
  const manifest = snapshot.manifest;
  if (snapshot.state !== "good" || !manifest)
    return `it is ${snapshot.state}: ${snapshot.problem ?? ""}`;
  const hash = createHash("sha256");
  let size = 0;
  await pipeline(await bucket.read(snapshot.objectKey), async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) {
      hash.update(chunk);
      size += chunk.length;
    }
  });
  const sha256 = hash.digest("hex");
  if (size !== manifest.size) return `it holds ${size} bytes, its manifest says ${manifest.size}`;
  if (sha256 !== manifest.sha256) {
    return `its sha256 is ${sha256}, its manifest says ${manifest.sha256}: the object is corrupt`;
  }
  return undefined;
}
