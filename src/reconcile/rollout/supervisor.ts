// The supervision loop for one cluster: observe, decide, act, until the stack
// settles. It keeps no state that the live system does not also hold, so a
// quorate started again mid-rollout picks up where the last one stopped.
import { permissionHint } from "../../aws/awsErrors.js";
import type { AwsClients } from "../../aws/clients.js";
import { sleep, stackEventsSince } from "../../aws/stacks.js";
import { describeError, QuorateError } from "../../errors.js";
import type { EtcdClientOptions } from "../../etcd/client.js";
import { formatFaultTolerance, formatGateResult, type GateResult } from "../../etcd/gate.js";
import { faultToleranceOf, restingFaultTolerance } from "../../etcd/roster.js";
import type { ClusterProbe } from "../../etcd/types.js";
import { hexId } from "../../etcd/wire.js";
import { durationMs } from "../../manifest/duration.js";
import { act } from "./act.js";
import { decideRollout, emptyMemory, type RolloutMemory } from "./decide.js";
import { holdOf } from "./decision.js";
import type { EventSink, RolloutEvent, RolloutEventType } from "./events.js";
import { firstFailure, rollbackFailure } from "./failureCause.js";
import { type MemberClock, memberPromoted, observeGroup, startClock } from "./memberDurations.js";
import type { RolloutFacts, RolloutObservation } from "./observation.js";
import { createObserver } from "./observe.js";

export type RolloutResult =
  | "complete" // the stack reached *_COMPLETE of what was asked
  | "rolled-back" // the update failed or was cancelled, and the rollback completed
  | "needs-operator" // UPDATE_ROLLBACK_FAILED and the like: only a person may go on
  | "absent"; // no stack

export interface RolloutOutcome {
  result: RolloutResult;
  stackStatus?: string;
  gate?: GateResult;
  message: string;
  /**
   * Seconds per member replaced, measured while this supervision watched
   * (memberDurations.ts): what the group's rollout history records.
   */
  memberSeconds: number[];
  /** The group the rollout was last seen on, where its history is written. */
  groupName?: string;
}

export interface SuperviseOptions {
  aws: AwsClients;
  facts: RolloutFacts;
  etcd: EtcdClientOptions & { probeTimeoutMs: number };
  onEvent: EventSink;
  signal?: AbortSignal;
  /** Pause between observations while nothing happens. */
  tickMs?: number;
  /** After the stack settles, how long to wait for the cluster to report healthy. */
  settleMs?: number;
  now?: () => number;
  /** Every probe of the members, for the status the dashboard shows while the rollout runs. */
  onProbe?: (cluster: string, probe: ClusterProbe) => void;
}

const COMPLETE = new Set(["CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"]);
const ROLLED_BACK = new Set(["UPDATE_ROLLBACK_COMPLETE", "ROLLBACK_COMPLETE", "DELETE_COMPLETE"]);
const HELD = new Set(["Pending:Wait", "Terminating:Wait"]);

export async function superviseRollout(options: SuperviseOptions): Promise<RolloutOutcome> {
  const { aws, facts } = options;
  const now = options.now ?? Date.now;
  const tickMs = options.tickMs ?? 1000;
  const observer = createObserver(aws, facts, options.etcd, now);
  const emit = (
    type: RolloutEventType,
    message: string,
    who: { instanceId?: string; memberId?: bigint } = {},
    extra: Pick<RolloutEvent, "faultTolerance" | "stackStatus" | "failedChecks"> = {},
  ) =>
    options.onEvent({
      at: new Date(now()).toISOString(),
      cluster: facts.cluster,
      type,
      ...(who.instanceId ? { instanceId: who.instanceId } : {}),
      ...(who.memberId !== undefined ? { memberId: hexId(who.memberId) } : {}),
      message,
      ...extra,
    });
  let lastTolerance: number | undefined;
  const reportTolerance = (probe: ClusterProbe | undefined) => {
    const t = toleranceOf(probe, facts.size);
    if (!t || t.tolerates === lastTolerance) return;
    lastTolerance = t.tolerates;
    emit(
      "fault-tolerance",
      `fault tolerance: ${formatFaultTolerance(t)}`,
      {},
      { faultTolerance: t },
    );
  };
  let memory: RolloutMemory = emptyMemory();
  let lastStatus: string | undefined;
  let lastMessage: string | undefined;
  let settledSince: number | undefined;
  /** The failing checks of the hold under way, if any. */
  let holding: string[] | undefined;
  const promoted = new Set<string>();
  let clock: MemberClock = startClock();
  /** The last action that failed, until one of its kind succeeds: said with a rollout that did not complete. */
  let failedAction: { kind: string; words: string } | undefined;

  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason;
    let observation: RolloutObservation;
    try {
      observation = await observer.observe(options.signal);
    } catch (error) {
      if (error instanceof QuorateError && error.kind === "terminal") throw error;
      emit("error", `observing failed, retrying: ${describeError(error)}`);
      await sleep(tickMs * 2, options.signal);
      continue;
    }
    const status = observation.stack?.status;
    if (!status)
      return {
        result: "absent",
        message: `stack ${facts.stackName} does not exist`,
        memberSeconds: [...clock.memberSeconds],
      };
    clock = observeGroup(clock, observation.at, observation.instances);
    if (status !== lastStatus) {
      emit("stack-status", `stack ${status}`, {}, { stackStatus: status });
      lastStatus = status;
    }

    reportTolerance(observation.probe);
    if (observation.probe) options.onProbe?.(facts.cluster, observation.probe);
    const decision = decideRollout(observation, facts, memory);
    memory = decision.memory;
    // Said once when a hold starts and once when it ends, not at every heartbeat.
    const hold = holdOf(decision);
    if (hold && !holding) emit("held", decision.message, {}, hold);
    if (!hold && holding) emit("resumed", resumedWords(holding, decision.message));
    holding = hold?.failedChecks;
    reportHealthy(observation, promoted, emit);
    // A waiting line is repeated only when what it waits for changes, not its clock.
    const gist = decision.message.replace(/\d+(\.\d+)?(ms|s)\b/g, "#");
    if (gist !== lastMessage && decision.actions.every((a) => a.kind === "heartbeat")) {
      emit(decision.gate && decision.phase === "idle" ? "gate" : "waiting", decision.message);
    }
    lastMessage = gist;

    const endpoints = (observation.probe?.endpoints ?? [])
      .filter((e) => e.reachable)
      .map((e) => e.endpoint);
    for (const action of decision.actions) {
      try {
        await act(action, {
          aws,
          facts,
          groupName: observation.groupName ?? "",
          endpoints,
          memberURLs: new Map((observation.probe?.members ?? []).map((m) => [m.id, m.clientURLs])),
          etcd: options.etcd,
          emit,
          promoteAttemptMs: Math.max(tickMs, 1000),
        });
        if (action.kind === "promote") {
          promoted.add(action.instanceId);
          clock = memberPromoted(clock, now());
        }
        if (failedAction?.kind === action.kind) failedAction = undefined;
      } catch (error) {
        const waiting = error instanceof QuorateError && error.kind === "notReady";
        const words = `${action.kind}: ${describeError(error)}`;
        // Retried each tick (a permission fixed meanwhile lets the rollout go on), said once.
        if (words !== failedAction?.words) emit(waiting ? "waiting" : "error", words);
        if (!waiting) failedAction = { kind: action.kind, words };
        break;
      }
    }

    const held = observation.instances.some((i) => HELD.has(i.lifecycleState));
    const busy =
      status.endsWith("_IN_PROGRESS") ||
      held ||
      decision.actions.some((a) => a.kind !== "heartbeat");
    if (!busy) {
      settledSince ??= now();
      // Healthy means whole too: as many voters as the group wants instances (a
      // failed member removed and not yet replaced leaves a passing gate of 2).
      const voters = (observation.probe?.members ?? []).filter((m) => !m.isLearner).length;
      const whole =
        observation.desiredCapacity === undefined || voters >= observation.desiredCapacity;
      const healthy = (decision.gate?.passed ?? false) && whole;
      // Long enough for the stable clock to run out once, and a little more.
      const settleMs =
        options.settleMs ?? Math.max(30_000, durationMs(facts.gates.stableFor) + 15_000);
      const waitedEnough = now() - settledSince >= settleMs;
      if (healthy || waitedEnough || !COMPLETE.has(status)) {
        const cause = COMPLETE.has(status)
          ? undefined
          : [
              await failureCause(aws, facts.stackName, status),
              ...(failedAction ? [`quorate's last failed step: ${failedAction.words}`] : []),
            ].join("; ");
        return {
          ...finish(status, decision.gate, emit, cause),
          memberSeconds: [...clock.memberSeconds],
          ...(observation.groupName ? { groupName: observation.groupName } : {}),
        };
      }
    } else {
      settledSince = undefined;
    }
    if (decision.actions.length === 0 || decision.actions.every((a) => a.kind === "heartbeat")) {
      await sleep(tickMs, options.signal);
    }
  }
}

/** `resumed: members-healthy passes again`, or what the rollout does now when no check held it. */
function resumedWords(heldOn: string[], now: string): string {
  if (heldOn.length === 0) return `resumed: ${now}`;
  return `resumed: ${heldOn.join(", ")} ${heldOn.length === 1 ? "passes" : "pass"} again`;
}

/**
 * The first failure of the stack's newest operation and, when its rollback
 * failed too, what stopped the rollback; or why the events could not be read.
 */
async function failureCause(aws: AwsClients, stackName: string, status: string): Promise<string> {
  // CloudFormation provisions as quorate's principal: a refused resource is a permission to add.
  const withHint = (failure: string) => {
    const hint = permissionHint(failure);
    return `${failure}${hint ? `; to fix it, ${hint}` : ""}`;
  };
  try {
    const events = await stackEventsSince(aws.cloudFormation, stackName, undefined);
    const cause = firstFailure(stackName, events);
    const stopped = status.endsWith("ROLLBACK_FAILED")
      ? rollbackFailure(stackName, events)
      : undefined;
    return [
      cause ? `first failure: ${withHint(cause)}` : "no resource failure in its events",
      ...(stopped ? [`the rollback stopped at: ${withHint(stopped)}`] : []),
    ].join("; ");
  } catch (error) {
    return `its events could not be read (${describeError(error)})`;
  }
}

function finish(
  status: string,
  gate: GateResult | undefined,
  emit: (type: RolloutEventType, message: string) => void,
  cause?: string,
): Omit<RolloutOutcome, "memberSeconds"> {
  const gateLine = `${cause ? `${cause}; ` : ""}${gate ? formatGateResult(gate) : "no gate evaluated"}`;
  const result: RolloutResult = COMPLETE.has(status)
    ? "complete"
    : ROLLED_BACK.has(status)
      ? "rolled-back"
      : "needs-operator";
  const message =
    result === "complete"
      ? `stack ${status}; ${gateLine}`
      : result === "rolled-back"
        ? `stack ${status}: the change did not go through and was rolled back; ${gateLine}`
        : `stack ${status}: a person must decide (quorate never runs ContinueUpdateRollback or deletes a stack on its own); ${gateLine}`;
  emit("done", message);
  return { result, stackStatus: status, ...(gate ? { gate } : {}), message };
}

/** What the cluster tolerates now and at rest; undefined while no member list was read. */
function toleranceOf(
  probe: ClusterProbe | undefined,
  size: number | undefined,
): { tolerates: number; resting: number } | undefined {
  if (!probe?.members || size === undefined) return undefined;
  return { tolerates: faultToleranceOf(probe).tolerates, resting: restingFaultTolerance(size) };
}

/** Says once per promoted member when it answers as a healthy voter. */
function reportHealthy(
  observation: RolloutObservation,
  promoted: Set<string>,
  emit: (type: RolloutEventType, message: string, who?: { instanceId?: string }) => void,
): void {
  for (const instanceId of [...promoted]) {
    const instance = observation.instances.find((i) => i.instanceId === instanceId);
    const endpoint = observation.probe?.endpoints.find(
      (e) => instance?.privateIp && e.endpoint.includes(`//${instance.privateIp}:`),
    );
    if (endpoint?.health?.healthy && endpoint.status && !endpoint.status.isLearner) {
      emit(
        "member-healthy",
        `healthy voting member (applied index ${endpoint.status.raftAppliedIndex})`,
        { instanceId },
      );
      promoted.delete(instanceId);
    }
  }
}
