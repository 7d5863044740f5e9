// The snapshot a member-replacing change needs (spec.backup.beforeChange),
// made sure of just before the change set is executed: the newest good one is
// reused when it is recent enough, else one is taken now through the same path
// as `quorate backup`. When neither works the change is held, with why and
// what to do; nothing here ever throws for a failure it can name.
import { isAccessDenied, permissionHint } from "../../aws/awsErrors.js";
import { describeError } from "../../errors.js";
import type { ClusterSpec } from "../../manifest/types.js";
import type { SnapshotRequirement } from "../../plan/model.js";
import type { Snapshot, SnapshotManifest } from "./catalog.js";
import { heldChangeMessage, snapshotFreshness } from "./freshness.js";
import { formatAge } from "./listing.js";
import { chooseSnapshotMember } from "./memberChoice.js";
import {
  bucketFor,
  probeMembers,
  readCatalog,
  type SnapshotDeps,
  takeSnapshot,
} from "./snapshots.js";

export type SnapshotBeforeChange =
  | { ok: true; kind: "reused"; snapshot: Snapshot; message: string }
  | { ok: true; kind: "taken"; manifest: SnapshotManifest; message: string }
  | { ok: false; message: string };

export async function snapshotBeforeChange(
  deps: SnapshotDeps,
  spec: ClusterSpec,
  requirement: SnapshotRequirement,
): Promise<SnapshotBeforeChange> {
  const now = deps.now ?? (() => new Date());
  const where = `s3://${requirement.bucket}/${requirement.prefix}`;
  const held = (
    cause: "bucket" | "member",
    why: string,
    newest?: { ageMs: number },
    failure?: unknown,
  ) => {
    const fix = permissionToAdd(failure);
    return {
      ok: false as const,
      message: heldChangeMessage({
        where,
        maxAge: requirement.maxAge,
        cause,
        why,
        ...(newest ? { newest } : {}),
        ...(fix ? { fix } : {}),
      }),
    };
  };

  let catalog: Snapshot[];
  try {
    catalog = await readCatalog(bucketFor(deps, spec));
  } catch (error) {
    return held("bucket", `listing ${where} failed: ${messageOf(error)}`, undefined, error);
  }
  const freshness = snapshotFreshness(catalog, now(), requirement.maxAgeSeconds * 1000);
  if (freshness.fresh) {
    const { snapshot, ageMs } = freshness;
    return {
      ok: true,
      kind: "reused",
      snapshot,
      message: `snapshot: reusing ${snapshot.objectKey} (${formatAge(Math.max(0, ageMs))} old, revision ${snapshot.manifest?.revision ?? "?"}), within spec.backup.maxAge ${requirement.maxAge}`,
    };
  }
  const newest = freshness.newest ? { ageMs: freshness.newest.ageMs } : undefined;

  // The member is chosen here rather than inside takeSnapshot, so that the
  // message tells a missing member apart from a failing bucket.
  let probe: Awaited<ReturnType<typeof probeMembers>>;
  try {
    probe = await probeMembers(deps, spec);
  } catch (error) {
    return held("member", messageOf(error), newest);
  }
  const choice = probe
    ? chooseSnapshotMember(probe)
    : { problem: "the cluster has no instances with an address" };
  if ("problem" in choice) return held("member", choice.problem, newest);
  try {
    const taken = await takeSnapshot(deps, spec, probe);
    const m = taken.manifest;
    return {
      ok: true,
      kind: "taken",
      manifest: m,
      message: `snapshot: took ${m.object} from ${m.member.name} at revision ${m.revision} (${m.size} bytes in ${(taken.durationMs / 1000).toFixed(1)}s) before any member is replaced`,
    };
  } catch (error) {
    return held("bucket", messageOf(error), newest, error);
  }
}

/** The error's own words; the held message says what to do instead of its hint. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : describeError(error);
}

/** For a denied call, however deep in the snapshot's error, the permission to add. */
function permissionToAdd(error: unknown): string | undefined {
  return error !== undefined && isAccessDenied(error)
    ? permissionHint(describeError(error))
    : undefined;
}
