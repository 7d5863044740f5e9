// Table tests of the snapshot schedule of `quorate run`: whether a snapshot is
// due (newest good, every, now, a rollout running, a backoff), how a failure
// backs off, and what BackupReady says from the schedule's state.
import { describe, expect, it } from "vitest";
import type { Snapshot, SnapshotState } from "../../../src/reconcile/backup/catalog.js";
import { snapshotId } from "../../../src/reconcile/backup/catalog.js";
import { backupReady, backupStatus } from "../../../src/reconcile/backup/readiness.js";
import {
  afterFailure,
  afterRead,
  afterTaken,
  decideSnapshot,
  initialSchedule,
  type KnownSnapshot,
  newestKnown,
  type ScheduleState,
} from "../../../src/reconcile/backup/schedule.js";

const NOW = Date.parse("2026-12-07T12:00:00Z");
const HOUR = 3_600_000;
const MIN = 60_000;
const WHERE = "s3://snaps/dev/";
const BACKUP = { bucket: "snaps", prefix: "dev/", every: "PT1H" };

function known(ageMs: number): KnownSnapshot {
  const takenAt = NOW - ageMs;
  return {
    key: `dev/${snapshotId(new Date(takenAt))}.db`,
    revision: "1042",
    size: 24_576,
    takenAt,
    completedAt: takenAt + 2_000,
  };
}

function state(extra: Partial<ScheduleState> = {}): ScheduleState {
  return { ...initialSchedule(WHERE), read: true, ...extra };
}

describe("decideSnapshot", () => {
  it.each<[string, ScheduleState, { busy?: boolean; now?: number }, string]>([
    ["the bucket not read yet: read it first", initialSchedule(WHERE), {}, "read"],
    ["read, and no good snapshot at all", state(), {}, "take"],
    ["the newest good one is 59 minutes old", state({ newest: known(59 * MIN) }), {}, "wait"],
    ["exactly every old: due", state({ newest: known(HOUR) }), {}, "take"],
    ["two hours old", state({ newest: known(2 * HOUR) }), {}, "take"],
    ["dated a little ahead (clock skew): not due", state({ newest: known(-5 * MIN) }), {}, "wait"],
    [
      "dated more than every ahead: not trusted, due",
      state({ newest: known(-2 * HOUR) }),
      {},
      "take",
    ],
    ["due, but a rollout runs", state({ newest: known(2 * HOUR) }), { busy: true }, "wait"],
    ["not read, but a rollout runs", initialSchedule(WHERE), { busy: true }, "wait"],
    [
      "due, but backing off after a failure",
      state({ newest: known(2 * HOUR), failures: 1, nextAttemptAt: NOW + 3_000 }),
      {},
      "wait",
    ],
    [
      "due, and the backoff is over",
      state({ newest: known(2 * HOUR), failures: 1, nextAttemptAt: NOW - 1 }),
      {},
      "take",
    ],
    [
      "a failed listing backs off the read too",
      { ...initialSchedule(WHERE), failures: 2, nextAttemptAt: NOW + 9_000 },
      {},
      "wait",
    ],
  ])("%s -> %s", (_what, given, input, kind) => {
    const decision = decideSnapshot(given, {
      everyMs: HOUR,
      now: input.now ?? NOW,
      busy: input.busy ?? false,
    });
    expect(decision.kind).toBe(kind);
  });

  it("says why it waits, and when the next one is due", () => {
    expect(
      decideSnapshot(state({ newest: known(20 * MIN) }), { everyMs: HOUR, now: NOW, busy: false }),
    ).toEqual({
      kind: "wait",
      why: "the next is due at 2026-12-07T12:40:00.000Z",
    });
  });
});

describe("the schedule's state", () => {
  it("backs off 5 s doubling to at most 5 min, with jitter between half and all of it", () => {
    let s = state({ newest: known(2 * HOUR) });
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      s = afterFailure(s, "InternalError", NOW, 0.999999);
      waits.push(Math.round(((s.nextAttemptAt ?? 0) - NOW) / 1000));
    }
    expect(waits).toEqual([5, 10, 20, 40, 80, 160, 300, 300, 300]);
    expect(afterFailure(state(), "x", NOW, 0).nextAttemptAt).toBe(NOW + 2_500);
    expect(s.failures).toBe(9);
    expect(s.newest).toEqual(known(2 * HOUR));
  });

  it("a good snapshot clears the failures and becomes the newest", () => {
    const failed = afterFailure(state({ newest: known(2 * HOUR) }), "InternalError", NOW, 0.5);
    expect(afterTaken(failed, known(0))).toEqual({
      where: WHERE,
      read: true,
      newest: known(0),
      failures: 0,
    });
  });

  it("reading the bucket keeps the newer of what it holds and what was known", () => {
    const s = { ...state({ newest: known(10 * MIN) }), read: false };
    expect(afterRead(s, known(HOUR)).newest).toEqual(known(10 * MIN));
    expect(afterRead(s, known(MIN)).newest).toEqual(known(MIN));
    expect(afterRead(initialSchedule(WHERE), undefined)).toEqual(state());
  });

  it("takes the newest good snapshot of a catalog, passing over broken newer ones", () => {
    const snap = (ageMs: number, st: SnapshotState): Snapshot => {
      const k = known(ageMs);
      const id = snapshotId(new Date(k.takenAt));
      return {
        id,
        objectKey: k.key,
        manifestKey: `dev/${id}.manifest.json`,
        state: st,
        at: new Date(k.takenAt),
        ...(st === "good"
          ? {
              manifest: {
                apiVersion: "quorate.dev/v1alpha1",
                kind: "EtcdSnapshot",
                cluster: "dev",
                id,
                object: k.key,
                revision: k.revision,
                etcdVersion: "3.4.23",
                member: { name: "i-1", id: "1", endpoint: "http://127.0.0.1:2379" },
                size: k.size,
                sha256: "0".repeat(64),
                takenAt: new Date(k.takenAt).toISOString(),
                completedAt: new Date(k.completedAt).toISOString(),
              },
            }
          : {}),
      } as Snapshot;
    };
    expect(
      newestKnown([snap(MIN, "incomplete"), snap(HOUR, "good"), snap(2 * HOUR, "good")]),
    ).toEqual(known(HOUR));
    expect(newestKnown([snap(MIN, "mismatched")])).toBeUndefined();
  });
});

describe("backupReady", () => {
  it.each<[string, ScheduleState | undefined, string, string, RegExp]>([
    [
      "nothing known yet",
      undefined,
      "Unknown",
      "BackupUnknown",
      /^s3:\/\/snaps\/dev\/ has not been read yet/,
    ],
    [
      "a snapshot 20 minutes old",
      state({ newest: known(20 * MIN) }),
      "True",
      "BackupSucceeded",
      /^the newest good snapshot dev\/20261207T114000000Z\.db is 20m old, revision 1042, 24\.0 KiB \(every PT1H\)$/,
    ],
    [
      "within every plus the margin (here one more hour)",
      state({ newest: known(119 * MIN) }),
      "True",
      "BackupSucceeded",
      /is 1h59m old/,
    ],
    [
      "beyond every plus the margin",
      state({ newest: known(121 * MIN) }),
      "False",
      "BackupOverdue",
      /is 2h1m old, revision 1042, 24\.0 KiB, and spec\.backup\.every is PT1H \(overdue after 2h\): scheduled snapshots are taken only while the cluster is in sync, no rollout runs and `quorate run` runs; `quorate backup dev` takes one now$/,
    ],
    [
      "the bucket read and empty",
      state(),
      "False",
      "BackupOverdue",
      /^there is no good snapshot under s3:\/\/snaps\/dev\/, and spec\.backup\.every is PT1H/,
    ],
    [
      "the last attempt failed, though the newest is recent",
      afterFailure(
        state({ newest: known(20 * MIN) }),
        "snapshot of dev from i-1 failed after 0 bytes: InternalError",
        NOW,
        0,
      ),
      "False",
      "BackupFailed",
      /^the scheduled snapshot failed \(attempt 1\): snapshot of dev from i-1 failed after 0 bytes: InternalError\. The newest good snapshot dev\/\S+ is 20m old, revision 1042, 24\.0 KiB\. It is tried again after 2026-12-07T12:00:02\.500Z\. Fix quorate's access to s3:\/\/snaps\/dev\/ or the members' health; `quorate backup dev` tries at once$/,
    ],
    [
      "the first listing failed",
      afterFailure(initialSchedule(WHERE), "listing s3://snaps/dev/ failed: AccessDenied", NOW, 0),
      "False",
      "BackupFailed",
      /failed \(attempt 1\): listing s3:\/\/snaps\/dev\/ failed: AccessDenied\. There is no good snapshot under s3:\/\/snaps\/dev\/\./,
    ],
  ])("%s: %s %s", (_what, given, status, reason, message) => {
    const condition = backupReady("dev", BACKUP, given, NOW);
    expect(condition).toMatchObject({ type: "BackupReady", status, reason });
    expect(condition.message).toMatch(message);
  });

  it("for a short every the margin is ten minutes", () => {
    const short = { ...BACKUP, every: "PT5S" };
    expect(backupReady("dev", short, state({ newest: known(9 * MIN) }), NOW).status).toBe("True");
    expect(backupReady("dev", short, state({ newest: known(11 * MIN) }), NOW).reason).toBe(
      "BackupOverdue",
    );
  });

  it("the status block names the newest snapshot and the failure while there is one", () => {
    const failed = afterFailure(state({ newest: known(HOUR) }), "InternalError", NOW, 0);
    expect(backupStatus(BACKUP, failed)).toEqual({
      bucket: "snaps",
      prefix: "dev/",
      every: "PT1H",
      newest: {
        key: "dev/20261207T110000000Z.db",
        revision: "1042",
        size: 24_576,
        takenAt: "2026-12-07T11:00:00.000Z",
        completedAt: "2026-12-07T11:00:02.000Z",
      },
      failures: 1,
      lastFailure: { at: "2026-12-07T12:00:00.000Z", message: "InternalError" },
      nextAttemptAt: "2026-12-07T12:00:02.500Z",
    });
    expect(backupStatus(BACKUP, afterTaken(failed, known(0)))).not.toHaveProperty("lastFailure");
  });
});
