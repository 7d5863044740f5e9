// Snapshots as quorate names and judges them, pure. Each snapshot is two
// objects under the cluster's prefix: the etcd data (<id>.db, exactly what
// `etcdctl snapshot save` writes) and its manifest (<id>.manifest.json),
// written last and only once the stored object was checked. So a snapshot
// is good only when its manifest is there and the object has the size the
// manifest records; a cut or damaged upload never looks complete.
import { API_VERSION } from "../../manifest/types.js";

export const SNAPSHOT_KIND = "EtcdSnapshot";
const OBJECT_SUFFIX = ".db";
const MANIFEST_SUFFIX = ".manifest.json";

export interface SnapshotManifest {
  apiVersion: typeof API_VERSION;
  kind: typeof SNAPSHOT_KIND;
  cluster: string;
  id: string;
  /** S3 key of the data object. */
  object: string;
  /** The member's revision when the snapshot began: the snapshot holds every write up to it. */
  revision: string;
  etcdVersion: string;
  member: { name: string; id: string; endpoint: string };
  size: number;
  /** sha256 (hex) of the whole object, etcd's trailing checksum included. */
  sha256: string;
  takenAt: string;
  completedAt: string;
}

export type SnapshotState =
  | "good"
  /** Data without a manifest: an upload that failed or was cut, or one still being written. */
  | "incomplete"
  /** The object's size differs from the manifest's: truncated or replaced. */
  | "mismatched"
  /** A manifest whose object is gone. */
  | "missing-object";

export interface Snapshot {
  id: string;
  objectKey: string;
  manifestKey: string;
  state: SnapshotState;
  /** Why a snapshot is not good, in words. */
  problem?: string;
  manifest?: SnapshotManifest;
  /** Stored size of the data object, when there is one. */
  storedSize?: number;
  /** When the snapshot was taken (manifest), else when its object was written. */
  at: Date;
}

export interface ListedKey {
  key: string;
  size: number;
  lastModified: Date;
}

/** 20261204T225501123Z: sortable, and names the moment it was taken. */
export function snapshotId(at: Date): string {
  return at.toISOString().replaceAll("-", "").replaceAll(":", "").replace(".", "");
}

export function snapshotKeys(
  prefix: string,
  id: string,
): { objectKey: string; manifestKey: string } {
  return {
    objectKey: `${prefix}${id}${OBJECT_SUFFIX}`,
    manifestKey: `${prefix}${id}${MANIFEST_SUFFIX}`,
  };
}

/** The id a key under the prefix names, and which of the two objects it is. */
export function parseSnapshotKey(
  prefix: string,
  key: string,
): { id: string; part: "object" | "manifest" } | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  if (rest.includes("/")) return undefined;
  if (rest.endsWith(MANIFEST_SUFFIX))
    return { id: rest.slice(0, -MANIFEST_SUFFIX.length), part: "manifest" };
  if (rest.endsWith(OBJECT_SUFFIX))
    return { id: rest.slice(0, -OBJECT_SUFFIX.length), part: "object" };
  return undefined;
}

/** A manifest read back from S3, or why it is not one. */
export function readManifest(value: unknown): SnapshotManifest | string {
  const m = value as Partial<SnapshotManifest> | undefined;
  if (!m || typeof m !== "object") return "the manifest is not a JSON object";
  if (m.apiVersion !== API_VERSION || m.kind !== SNAPSHOT_KIND)
    return `the manifest is not a ${API_VERSION} ${SNAPSHOT_KIND}`;
  if (
    typeof m.size !== "number" ||
    typeof m.sha256 !== "string" ||
    !/^[0-9a-f]{64}$/.test(m.sha256)
  )
    return "the manifest has no size or sha256";
  if (
    typeof m.revision !== "string" ||
    typeof m.object !== "string" ||
    typeof m.takenAt !== "string"
  )
    return "the manifest has no revision, object or takenAt";
  return m as SnapshotManifest;
}

/**
 * Every snapshot under the prefix, newest first, from the listing and the
 * manifests read for it (by manifest key; undefined where it could not be read).
 */
export function buildCatalog(
  prefix: string,
  listed: readonly ListedKey[],
  manifests: ReadonlyMap<string, unknown>,
): Snapshot[] {
  const byId = new Map<string, { object?: ListedKey; manifest?: ListedKey }>();
  for (const item of listed) {
    const parsed = parseSnapshotKey(prefix, item.key);
    if (!parsed) continue;
    const entry = byId.get(parsed.id) ?? {};
    entry[parsed.part] = item;
    byId.set(parsed.id, entry);
  }
  const out: Snapshot[] = [];
  for (const [id, { object, manifest }] of byId) {
    const keys = snapshotKeys(prefix, id);
    const base = {
      id,
      ...keys,
      ...(object ? { storedSize: object.size } : {}),
    };
    if (!manifest) {
      out.push({
        ...base,
        state: "incomplete",
        problem: "no manifest: the upload failed or was cut short, or is still being written",
        at: object?.lastModified ?? new Date(0),
      });
      continue;
    }
    const read = readManifest(manifests.get(keys.manifestKey));
    if (typeof read === "string") {
      out.push({ ...base, state: "incomplete", problem: read, at: manifest.lastModified });
      continue;
    }
    const at = new Date(read.takenAt);
    if (!object) {
      out.push({
        ...base,
        manifest: read,
        state: "missing-object",
        problem: "its data object is gone",
        at,
      });
    } else if (object.size !== read.size) {
      out.push({
        ...base,
        manifest: read,
        state: "mismatched",
        problem: `the object holds ${object.size} bytes, the manifest says ${read.size}`,
        at,
      });
    } else {
      out.push({ ...base, manifest: read, state: "good", at });
    }
  }
  return out.sort((a, b) => b.id.localeCompare(a.id));
}

/** The newest good snapshot, if any. */
export function newestGood(catalog: readonly Snapshot[]): Snapshot | undefined {
  return catalog.find((s) => s.state === "good");
}

/** The snapshot a restore names: `latest` or an object key; or why there is none. */
export function selectRestoreSnapshot(
  catalog: readonly Snapshot[],
  wanted: string,
): { snapshot: Snapshot } | { problem: string } {
  if (wanted === "latest") {
    const good = newestGood(catalog);
    return good ? { snapshot: good } : { problem: "there is no good snapshot under the prefix" };
  }
  const found = catalog.find((s) => s.objectKey === wanted || s.manifestKey === wanted);
  if (!found) return { problem: `there is no snapshot ${wanted}` };
  if (found.state !== "good")
    return { problem: `snapshot ${wanted} is ${found.state}: ${found.problem ?? ""}` };
  return { snapshot: found };
}
