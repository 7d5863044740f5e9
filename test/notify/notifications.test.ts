// GIVEN what was already said and a status transition or a rollout event, WHEN
// it goes through notificationsFor, THEN these notifications go out (one per
// transition: the same hold or stall seen pass after pass is said once).
import { describe, expect, it } from "vitest";
import {
  type Notification,
  type NotifyInput,
  type NotifyMemory,
  notificationsFor,
} from "../../src/notify/notifications.js";
import { slackText, webhookPayload } from "../../src/notify/payload.js";
import { REASON } from "../../src/reconcile/conditions.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import {
  type ClusterStatus,
  initialStatus,
  nextStatus,
  type ReconcileOutcome,
} from "../../src/reconcile/status.js";

const NEW = "b".repeat(40);
const OLD = "a".repeat(40);
const AT = new Date("2026-12-07T02:00:00Z");

/** A status as the reconciler writes it: `outcome` recorded over `previous`. */
function status(outcome: ReconcileOutcome, previous?: ClusterStatus, attempted = true) {
  return nextStatus(previous ?? initialStatus("dev"), outcome, {
    now: AT,
    revision: NEW,
    attempted,
    stack: { stackName: "quorate-dev", status: "UPDATE_COMPLETE", lastAppliedRevision: OLD },
  });
}
const applying = status({ kind: "progressing", reason: REASON.Progressing, message: "apply" });
const supervising = status(
  { kind: "progressing", reason: REASON.RolloutInProgress, message: "stack is busy" },
  undefined,
  false,
);
const stalledInvalid = status({
  kind: "stalled",
  reason: REASON.InvalidManifest,
  message: "bad",
});
const blocked = status({ kind: "gate-blocked", message: "not applied, the health gate failed" });

function event(type: RolloutEvent["type"], extra: Partial<RolloutEvent> = {}): RolloutEvent {
  return { at: AT.toISOString(), cluster: "dev", type, message: `${type} line`, ...extra };
}
const onEvent = (e: RolloutEvent, s: ClusterStatus = applying): NotifyInput => ({
  kind: "event",
  event: e,
  status: s,
});
const onStatus = (
  outcome: ReconcileOutcome,
  previous: ClusterStatus | undefined = applying,
): NotifyInput => ({ kind: "status", previous, next: status(outcome, previous), outcome });

const OPEN: NotifyMemory = { rollout: { revision: NEW } };
const HELD_OPEN: NotifyMemory = { rollout: { revision: NEW }, held: true };

type Row = [string, NotifyMemory, NotifyInput, Partial<Notification>[], NotifyMemory];
const rows: Row[] = [
  [
    "an executed change set starts a rollout: pending on the executed revision",
    {},
    onEvent(event("stack-status", { stackStatus: "UPDATE_IN_PROGRESS" })),
    [{ kind: "rollout-started", revision: NEW, stack: "quorate-dev", commitState: "pending" }],
    OPEN,
  ],
  [
    "the supervisor's UPDATE_IN_PROGRESS right after is the same rollout",
    OPEN,
    onEvent(event("stack-status", { stackStatus: "UPDATE_IN_PROGRESS" })),
    [],
    OPEN,
  ],
  [
    "a rollout found under way (a restarted quorate) rolls the revision on the stack's tags",
    {},
    onEvent(event("stack-status", { stackStatus: "UPDATE_IN_PROGRESS" }), supervising),
    [{ kind: "rollout-started", revision: OLD }],
    { rollout: { revision: OLD } },
  ],
  [
    "a settled stack's status line starts nothing (a heal-first supervision)",
    {},
    onEvent(event("stack-status", { stackStatus: "UPDATE_COMPLETE" })),
    [],
    {},
  ],
  [
    "a rollback seen under way is no start",
    {},
    onEvent(event("stack-status", { stackStatus: "UPDATE_ROLLBACK_IN_PROGRESS" })),
    [],
    {},
  ],
  [
    "a gate that holds hooks mid-rollout: held, with the gate's reason",
    OPEN,
    onEvent(event("held", { message: "holding i-1: gate failed: members-healthy: m2 down" })),
    [
      {
        kind: "rollout-held",
        reason: REASON.GateFailed,
        revision: NEW,
        message: "holding i-1: gate failed: members-healthy: m2 down",
      },
    ],
    HELD_OPEN,
  ],
  ["held again while held says nothing", HELD_OPEN, onEvent(event("held")), [], HELD_OPEN],
  [
    "the hold ends: resumed",
    HELD_OPEN,
    onEvent(event("resumed")),
    [{ kind: "rollout-resumed", revision: NEW, message: "resumed line" }],
    OPEN,
  ],
  ["resumed without a hold says nothing", OPEN, onEvent(event("resumed")), [], OPEN],
  [
    "member-by-member events are not notifications",
    OPEN,
    onEvent(event("learner-added")),
    [],
    OPEN,
  ],
  [
    "the rollout completes: finished, success",
    HELD_OPEN,
    onStatus({ kind: "applied", message: "stack UPDATE_COMPLETE; gate passed" }),
    [{ kind: "rollout-finished", revision: NEW, commitState: "success" }],
    {},
  ],
  [
    "an apply that found no change set finished no rollout",
    {},
    onStatus({ kind: "applied", message: "no changes" }),
    [],
    {},
  ],
  [
    "in sync after a supervision that failed midway: the rollout did finish",
    OPEN,
    onStatus({ kind: "ready", message: "in sync" }),
    [{ kind: "rollout-finished", commitState: "success" }],
    {},
  ],
  [
    "a transient failure mid-rollout keeps it open (supervised again next pass)",
    OPEN,
    onStatus({ kind: "transient", message: "throttled" }),
    [],
    OPEN,
  ],
  [
    "rolled back: failure",
    OPEN,
    onStatus({ kind: "rolled-back", message: "stack UPDATE_ROLLBACK_COMPLETE" }),
    [
      {
        kind: "rollout-rolled-back",
        reason: REASON.RolledBack,
        revision: NEW,
        commitState: "failure",
      },
    ],
    {},
  ],
  [
    "a rollout that ends needing a person: needs-person, failure",
    OPEN,
    onStatus({
      kind: "stalled",
      reason: REASON.StackNeedsOperator,
      message: "stack UPDATE_ROLLBACK_FAILED",
    }),
    [{ kind: "needs-person", reason: REASON.StackNeedsOperator, commitState: "failure" }],
    {},
  ],
  [
    "an invalid manifest needs a person, with no commit status (nothing rolled)",
    {},
    onStatus({ kind: "stalled", reason: REASON.InvalidManifest, message: "bad" }, undefined),
    [{ kind: "needs-person", reason: REASON.InvalidManifest, revision: NEW }],
    {},
  ],
  [
    "the same invalid manifest at the next pass is not said again",
    {},
    onStatus({ kind: "stalled", reason: REASON.InvalidManifest, message: "bad" }, stalledInvalid),
    [],
    {},
  ],
  [
    "another stall reason is a new transition",
    {},
    onStatus(
      { kind: "stalled", reason: REASON.StackNeedsOperator, message: "failed" },
      stalledInvalid,
    ),
    [{ kind: "needs-person", reason: REASON.StackNeedsOperator }],
    {},
  ],
  [
    "the pre-execution gate refuses: held, nothing executed",
    {},
    onStatus({ kind: "gate-blocked", message: "not applied, the health gate failed: x" }),
    [{ kind: "rollout-held", reason: REASON.GateFailed, revision: NEW }],
    { held: true },
  ],
  [
    "refused again after the backoff: said once",
    { held: true },
    onStatus({ kind: "gate-blocked", message: "not applied" }, blocked),
    [],
    { held: true },
  ],
  [
    "no snapshot to be had: held for SnapshotMissing",
    {},
    onStatus({ kind: "snapshot-missing", message: "no snapshot" }),
    [{ kind: "rollout-held", reason: REASON.SnapshotMissing }],
    { held: true },
  ],
  [
    "after a hold before execution, the rollout starts: started, hold forgotten",
    { held: true },
    onEvent(event("stack-status", { stackStatus: "UPDATE_IN_PROGRESS" })),
    [{ kind: "rollout-started" }],
    OPEN,
  ],
  [
    "progressing (a pass starting an apply) says nothing",
    {},
    onStatus({ kind: "progressing", reason: REASON.Progressing, message: "apply" }, undefined),
    [],
    {},
  ],
];

describe("notificationsFor", () => {
  it.each(rows)("%s", (_name, memory, input, expected, after) => {
    const result = notificationsFor(memory, input);
    expect(result.notifications).toHaveLength(expected.length);
    result.notifications.forEach((n, i) => {
      expect(n).toMatchObject({ cluster: "dev", ...expected[i] });
    });
    expect(result.memory).toEqual(after);
  });

  it("never changes the memory or statuses it is given", () => {
    const memory: NotifyMemory = { rollout: { revision: NEW } };
    const input = onStatus({ kind: "applied", message: "done" });
    const frozen = structuredClone({ memory, input });
    notificationsFor(memory, input);
    expect({ memory, input }).toEqual(frozen);
  });

  it("a whole rollout with a hold in it says five things, in order", () => {
    const inputs: NotifyInput[] = [
      onStatus({ kind: "progressing", reason: REASON.Progressing, message: "apply" }, undefined),
      onEvent(event("plan")),
      onEvent(event("stack-status", { stackStatus: "UPDATE_IN_PROGRESS" })),
      onEvent(event("stack-status", { stackStatus: "UPDATE_IN_PROGRESS" })),
      onEvent(event("held")),
      onEvent(event("hook-held")),
      onEvent(event("held")),
      onEvent(event("resumed")),
      onEvent(event("member-removed")),
      onEvent(event("held")),
      onEvent(event("resumed")),
      onStatus({ kind: "applied", message: "stack UPDATE_COMPLETE" }),
      onStatus({ kind: "ready", message: "in sync" }),
    ];
    let memory: NotifyMemory = {};
    const kinds: string[] = [];
    for (const input of inputs) {
      const result = notificationsFor(memory, input);
      memory = result.memory;
      kinds.push(...result.notifications.map((n) => n.kind));
    }
    expect(kinds).toEqual([
      "rollout-started",
      "rollout-held",
      "rollout-resumed",
      "rollout-held",
      "rollout-resumed",
      "rollout-finished",
    ]);
  });
});

describe("webhookPayload", () => {
  const held: Notification = {
    kind: "rollout-held",
    cluster: "dev",
    revision: NEW,
    stack: "quorate-dev",
    region: "eu-west-1",
    reason: REASON.GateFailed,
    message: "gate failed: members-healthy: <m2> & more",
    at: AT.toISOString(),
    commitState: "pending",
  };

  it("carries the fields and a Slack text, and not the commit state", () => {
    expect(webhookPayload(held)).toEqual({
      kind: "rollout-held",
      cluster: "dev",
      revision: NEW,
      stack: "quorate-dev",
      region: "eu-west-1",
      reason: "HealthGateFailed",
      message: "gate failed: members-healthy: <m2> & more",
      time: "2026-12-07T02:00:00.000Z",
      text: "quorate: *dev* rollout held at `bbbbbbbbbbbb` (quorate-dev): gate failed: members-healthy: &lt;m2&gt; &amp; more",
    });
  });

  it("leaves out what it does not know", () => {
    expect(
      slackText({ kind: "needs-person", cluster: "dev", message: "bad", at: AT.toISOString() }),
    ).toBe("quorate: *dev* needs a person: bad");
  });
});
