// Scheduled snapshots of `quorate run`: per cluster, the schedule's state in
// memory and at most one snapshot task at a time. The reconciler asks at each
// pass (for clusters in sync, with no rollout) and counts these tasks against
// its concurrency limit; the decisions are schedule.ts's, the snapshot itself
// is the same takeSnapshot as `quorate backup` (retention included).
import type { AwsClientPool } from "../../aws/clients.js";
import type { EtcdClientOptions } from "../../etcd/client.js";
import { durationMs } from "../../manifest/duration.js";
import type { BackupSpec, ClusterSpec } from "../../manifest/types.js";
import type { EventSink } from "../rollout/events.js";
import { formatBytes } from "./listing.js";
import { type BackupCondition, type BackupStatus, backupReady, backupStatus } from "./readiness.js";
import {
  afterFailure,
  afterRead,
  afterTaken,
  decideSnapshot,
  fromManifest,
  initialSchedule,
  newestKnown,
  type ScheduleState,
} from "./schedule.js";
import { bucketFor, readCatalog, takeSnapshot } from "./snapshots.js";

export interface BackupSchedulerDeps {
  aws: AwsClientPool;
  etcd: EtcdClientOptions;
  onEvent: EventSink;
  now: () => number;
  random: () => number;
  /** A task changed a cluster's state: its status should follow now, not at the next pass. */
  onChange(cluster: string): void;
}

export interface BackupScheduler {
  /** Clusters a snapshot is being taken of now. */
  names(): string[];
  tasks(): Promise<void>[];
  /** At a pass: starts a snapshot task when one is due; returns it, or undefined. */
  consider(spec: ClusterSpec, busy: boolean, signal?: AbortSignal): Promise<void> | undefined;
  /** BackupReady and the status block; undefined (and the state forgotten) without spec.backup. */
  view(
    cluster: string,
    backup: BackupSpec | undefined,
  ): { condition: BackupCondition; status: BackupStatus } | undefined;
  /** After an apply, whose beforeChange may have taken a snapshot: read the bucket again first. */
  reread(cluster: string): void;
}

export function createBackupScheduler(deps: BackupSchedulerDeps): BackupScheduler {
  const states = new Map<string, ScheduleState>();
  const running = new Map<string, Promise<void>>();
  const whereOf = (backup: BackupSpec) => `s3://${backup.bucket}/${backup.prefix}`;

  const stateFor = (cluster: string, backup: BackupSpec): ScheduleState => {
    const where = whereOf(backup);
    const state = states.get(cluster);
    // Another bucket or prefix: what was known of the old one says nothing.
    return state?.where === where ? state : initialSchedule(where);
  };
  const update = (cluster: string, where: string, next: ScheduleState) => {
    // The manifest moved the backups while the task ran: its result is about the old place.
    if (states.get(cluster)?.where !== where) return;
    states.set(cluster, next);
    deps.onChange(cluster);
  };

  /** Never rejects: every failure, even an unexpected one, becomes state and an event. */
  async function run(spec: ClusterSpec, backup: BackupSpec, signal?: AbortSignal): Promise<void> {
    const cluster = spec.name;
    const where = whereOf(backup);
    const started = deps.now();
    const snapshotDeps = {
      aws: deps.aws,
      etcd: deps.etcd,
      now: () => new Date(deps.now()),
      ...(signal ? { signal } : {}),
    };
    const fail = (message: string) => {
      // A stop cut it short: not the bucket's fault, and not worth a retry count.
      if (signal?.aborted) return;
      const now = deps.now();
      const next = afterFailure(stateFor(cluster, backup), message, now, deps.random());
      update(cluster, where, next);
      const retryAt = new Date(next.nextAttemptAt ?? now).toISOString();
      deps.onEvent({
        at: new Date(now).toISOString(),
        cluster,
        type: "backup-failed",
        message: `scheduled snapshot failed (attempt ${next.failures}, tried again after ${retryAt}): ${message}`,
        backup: { durationMs: now - started, attempt: next.failures, retryAt },
      });
    };

    try {
      await attempt();
    } catch (error) {
      fail(messageOf(error));
    }

    async function attempt(): Promise<void> {
      let state = stateFor(cluster, backup);
      if (!state.read) {
        try {
          state = afterRead(state, newestKnown(await readCatalog(bucketFor(snapshotDeps, spec))));
        } catch (error) {
          return fail(`listing ${where} failed: ${messageOf(error)}`);
        }
        update(cluster, where, state);
        const decision = decideSnapshot(state, {
          everyMs: durationMs(backup.every),
          now: deps.now(),
          busy: false,
        });
        if (decision.kind !== "take") return;
      }
      try {
        const taken = await takeSnapshot(snapshotDeps, spec);
        const known = fromManifest(taken.manifest);
        update(cluster, where, afterTaken(state, known));
        const m = taken.manifest;
        const pruned = taken.pruned.length;
        deps.onEvent({
          at: new Date(deps.now()).toISOString(),
          cluster,
          type: "backup-taken",
          message: `scheduled snapshot: took ${m.object} from ${m.member.name} at revision ${m.revision} (${formatBytes(m.size)} in ${(taken.durationMs / 1000).toFixed(1)}s)${pruned > 0 ? `; retention deleted ${pruned}` : ""}`,
          backup: {
            durationMs: taken.durationMs,
            key: m.object,
            revision: m.revision,
            bytes: m.size,
            pruned,
          },
        });
      } catch (error) {
        fail(messageOf(error));
      }
    }
  }

  return {
    names: () => [...running.keys()],
    tasks: () => [...running.values()],
    consider(spec, busy, signal) {
      const backup = spec.backup;
      if (!backup || running.has(spec.name)) return undefined;
      const state = stateFor(spec.name, backup);
      states.set(spec.name, state);
      const decision = decideSnapshot(state, {
        everyMs: durationMs(backup.every),
        now: deps.now(),
        busy,
      });
      if (decision.kind === "wait") return undefined;
      const task = run(spec, backup, signal).finally(() => running.delete(spec.name));
      running.set(spec.name, task);
      return task;
    },
    view(cluster, backup) {
      if (!backup) {
        states.delete(cluster);
        return undefined;
      }
      const state = states.get(cluster);
      const known = state?.where === whereOf(backup) ? state : undefined;
      return {
        condition: backupReady(cluster, backup, known, deps.now()),
        status: backupStatus(backup, known),
      };
    },
    reread(cluster) {
      const state = states.get(cluster);
      if (state) states.set(cluster, { ...state, read: false });
    },
  };
}

/** The error's own words: the condition says what to do instead of its hint. */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
