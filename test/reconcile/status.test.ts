import { describe, expect, it } from "vitest";
import { conditionOf, REASON } from "../../src/reconcile/conditions.js";
import {
  backingOff,
  initialStatus,
  nextStatus,
  type ReconcileOutcome,
  withBackup,
  withFaultTolerance,
} from "../../src/reconcile/status.js";

const T0 = new Date("2026-11-25T10:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const conditions = (outcome: ReconcileOutcome) => {
  const status = nextStatus(initialStatus("dev"), outcome, { now: T0, revision: "abc" });
  return Object.fromEntries(status.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));
};

describe("every outcome sets all four conditions, with a reason", () => {
  it.each<[string, ReconcileOutcome, Record<string, string>]>([
    [
      "ready",
      { kind: "ready", message: "in sync" },
      {
        Ready: "True/ReconciliationSucceeded",
        Reconciling: "False/ReconciliationSucceeded",
        Stalled: "False/ReconciliationSucceeded",
        HealthGatePassed: "Unknown/HealthGateUnknown",
      },
    ],
    [
      "progressing",
      { kind: "progressing", reason: "RolloutInProgress", message: "m" },
      {
        Ready: "False/RolloutInProgress",
        Reconciling: "True/RolloutInProgress",
        Stalled: "False/RolloutInProgress",
        HealthGatePassed: "Unknown/HealthGateUnknown",
      },
    ],
    [
      "stalled",
      { kind: "stalled", reason: "InvalidManifest", message: "m" },
      {
        Ready: "False/InvalidManifest",
        Reconciling: "False/InvalidManifest",
        Stalled: "True/InvalidManifest",
        HealthGatePassed: "Unknown/HealthGateUnknown",
      },
    ],
    [
      "rolled back",
      { kind: "rolled-back", message: "m" },
      {
        Ready: "False/RolledBack",
        Reconciling: "False/RolledBack",
        Stalled: "True/RolledBack",
        HealthGatePassed: "Unknown/HealthGateUnknown",
      },
    ],
    [
      "gate blocked",
      { kind: "gate-blocked", message: "m" },
      {
        Ready: "False/HealthGateFailed",
        Reconciling: "True/HealthGateFailed",
        Stalled: "False/HealthGateFailed",
        HealthGatePassed: "Unknown/HealthGateUnknown",
      },
    ],
    [
      "snapshot-missing",
      { kind: "snapshot-missing", message: "m" },
      {
        Ready: "False/SnapshotMissing",
        Reconciling: "True/SnapshotMissing",
        Stalled: "False/SnapshotMissing",
        HealthGatePassed: "Unknown/HealthGateUnknown",
      },
    ],
    [
      "orphaned",
      { kind: "orphaned", message: "m" },
      {
        Ready: "False/Orphaned",
        Reconciling: "False/Orphaned",
        Stalled: "False/Orphaned",
        HealthGatePassed: "Unknown/HealthGateUnknown",
      },
    ],
    [
      "transient",
      { kind: "transient", message: "m" },
      {
        Ready: "False/TransientError",
        Reconciling: "True/TransientError",
        Stalled: "False/TransientError",
        HealthGatePassed: "Unknown/HealthGateUnknown",
      },
    ],
  ])("%s", (_name, outcome, expected) => {
    expect(conditions(outcome)).toEqual(expected);
  });
});

describe("revisions and transitions", () => {
  it("records observed and attempted revisions, and the applied one from the stack's tag", () => {
    const status = nextStatus(
      initialStatus("dev"),
      { kind: "applied", message: "ok" },
      {
        now: T0,
        revision: "r2",
        attempted: true,
        stack: {
          stackName: "quorate-dev",
          status: "UPDATE_COMPLETE",
          lastAppliedRevision: "r2",
          templateSha256: "h",
        },
      },
    );
    expect(status).toMatchObject({
      observedRevision: "r2",
      lastAttemptedRevision: "r2",
      lastAppliedRevision: "r2",
      stackStatus: "UPDATE_COMPLETE",
    });
  });

  it("keeps a condition's transition time while its status holds", () => {
    const first = nextStatus(initialStatus("dev"), { kind: "ready", message: "a" }, { now: T0 });
    const second = nextStatus(first, { kind: "ready", message: "b" }, { now: at(60) });
    expect(conditionOf(second.conditions, "Ready")?.lastTransitionTime).toBe(T0.toISOString());
    const third = nextStatus(second, { kind: "transient", message: "c" }, { now: at(120) });
    expect(conditionOf(third.conditions, "Ready")?.lastTransitionTime).toBe(at(120).toISOString());
  });
});

describe("backoff", () => {
  it("doubles per consecutive failure, with jitter between half and all of it, up to the cap", () => {
    const backoff = { baseMs: 1000, maxMs: 8000, random: 1 - Number.EPSILON };
    let status = initialStatus("dev");
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      status = nextStatus(status, { kind: "transient", message: "x" }, { now: T0, backoff });
      waits.push(Date.parse(status.nextAttemptAt ?? "") - T0.getTime());
    }
    expect(waits).toEqual([1000, 2000, 4000, 8000, 8000]);
    const low = nextStatus(
      initialStatus("dev"),
      { kind: "transient", message: "x" },
      { now: T0, backoff: { ...backoff, random: 0 } },
    );
    expect(Date.parse(low.nextAttemptAt ?? "") - T0.getTime()).toBe(500);
    expect(backingOff(status, at(7))).toBe(true);
    expect(backingOff(status, at(9))).toBe(false);
  });

  it("is cleared by a success", () => {
    const failed = nextStatus(
      initialStatus("dev"),
      { kind: "transient", message: "x" },
      { now: T0 },
    );
    const ok = nextStatus(failed, { kind: "ready", message: "y" }, { now: at(1) });
    expect(ok.failures).toBe(0);
    expect(ok.nextAttemptAt).toBeUndefined();
    expect(backingOff(ok, at(1))).toBe(false);
  });
});

describe("fault tolerance", () => {
  it("a condition FaultToleranceReduced is True below the resting value and False at it", () => {
    const low = withFaultTolerance(initialStatus("dev"), { tolerates: 0, resting: 1 }, T0);
    expect(low.faultTolerance).toEqual({ tolerates: 0, resting: 1 });
    expect(conditionOf(low.conditions, "FaultToleranceReduced")).toMatchObject({
      status: "True",
      reason: "FaultToleranceReduced",
      message: "tolerates 0 failures (1 at rest): one more member failure loses quorum",
    });
    const back = withFaultTolerance(low, { tolerates: 1, resting: 1 }, at(30));
    expect(conditionOf(back.conditions, "FaultToleranceReduced")).toMatchObject({
      status: "False",
      reason: "FaultToleranceAtRest",
      message: "tolerates 1 failure",
      lastTransitionTime: at(30).toISOString(),
    });
  });

  it("comes from the gate of an outcome", () => {
    const gate = {
      passed: false,
      at: T0.getTime(),
      checks: [],
      failed: [],
      summary: {
        judged: 5,
        healthyVoters: 4,
        leaderDeparting: false,
        departing: [],
        joining: [],
        heldForMs: 0,
        stableForMs: 0,
        versions: [],
        faultTolerance: { voters: 5, healthyVoters: 4, tolerates: 1, resting: 2 },
      },
    };
    const status = nextStatus(
      initialStatus("prod"),
      { kind: "gate-blocked", message: "m", gate },
      { now: T0 },
    );
    expect(status.faultTolerance).toEqual({ tolerates: 1, resting: 2 });
    expect(conditionOf(status.conditions, "FaultToleranceReduced")?.status).toBe("True");
  });
});

describe("withBackup", () => {
  const view = (status: "True" | "False") => ({
    condition: {
      type: "BackupReady" as const,
      status,
      reason: status === "True" ? REASON.BackupSucceeded : REASON.BackupFailed,
      message: status,
    },
    status: { bucket: "snaps", prefix: "dev/", every: "PT1H", failures: status === "True" ? 0 : 1 },
  });

  it("sets BackupReady after the other conditions, keeps its time while the status holds, and survives the next outcome", () => {
    const ready = nextStatus(
      initialStatus("dev"),
      { kind: "ready", message: "in sync" },
      { now: T0 },
    );
    const first = withBackup(ready, view("True"), T0);
    expect(first.conditions.map((c) => c.type)).toEqual([
      "Ready",
      "Reconciling",
      "Stalled",
      "HealthGatePassed",
      "BackupReady",
    ]);
    const again = withBackup(first, view("True"), at(60));
    expect(conditionOf(again.conditions, "BackupReady")?.lastTransitionTime).toBe(T0.toISOString());
    const failed = withBackup(again, view("False"), at(90));
    expect(conditionOf(failed.conditions, "BackupReady")).toMatchObject({
      status: "False",
      reason: "BackupFailed",
      lastTransitionTime: at(90).toISOString(),
    });
    const next = nextStatus(failed, { kind: "ready", message: "in sync" }, { now: at(120) });
    expect(conditionOf(next.conditions, "BackupReady")?.reason).toBe("BackupFailed");
    expect(next.backup?.failures).toBe(1);
  });

  it("without spec.backup removes the condition and the block", () => {
    const with_ = withBackup(initialStatus("dev"), view("True"), T0);
    const without = withBackup(with_, undefined, at(1));
    expect(without.conditions.some((c) => c.type === "BackupReady")).toBe(false);
    expect(without).not.toHaveProperty("backup");
  });
});
