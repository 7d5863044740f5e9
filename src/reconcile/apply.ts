// Applying one cluster: render, preview through a change set, check the gate,
// execute, and supervise the rollout until the stack settles. A stack already
// mid-operation is only supervised: nothing is executed twice.
import type { AwsClientPool, AwsClients } from "../aws/clients.js";
import { describeStack, executeChangeSet, setTerminationProtection, sleep } from "../aws/stacks.js";
import type { EtcdClientOptions } from "../etcd/client.js";
import { evaluateGate, formatGateResult, type GateMemory, type GateResult } from "../etcd/gate.js";
import type { ClusterProbe } from "../etcd/types.js";
import { durationMs } from "../manifest/duration.js";
import type { ClusterSpec } from "../manifest/types.js";
import { clusterHeadline, restoreSentence, rolloutSentence } from "../plan/format/describe.js";
import { membersRoll } from "../plan/liveDetail.js";
import type { ClusterPlan } from "../plan/model.js";
import { SNAPSHOT_CHECK } from "../plan/snapshotBeforeChange.js";
import type { AmiFeed } from "../render/ami.js";
import { restoreGroupName, STACK_TAG } from "../render/contract.js";
import { renderStack } from "../render/template.js";
import { snapshotBeforeChange } from "./backup/beforeChange.js";
import { confirmClusterVersion, liveVersionRefusal, minorUpgradeTarget } from "./clusterVersion.js";
import { DEFAULT_OWNER } from "./ownership.js";
import { type ClusterPreview, discardChangeSet, previewCluster, stackState } from "./preview.js";
import type { EventSink } from "./rollout/events.js";
import type { RolloutFacts } from "./rollout/observation.js";
import { createObserver } from "./rollout/observe.js";
import { type RolloutOutcome, superviseRollout } from "./rollout/supervisor.js";
import { recordRollout } from "./rolloutRecord.js";

export type ApplyResult =
  | "no-change"
  | "applied"
  | "declined"
  | "gate-blocked"
  | "rolled-back"
  | "needs-operator"
  /** CloudFormation refused the change set (FAILED): nothing was executed. */
  | "change-set-failed"
  /** Members would be replaced and no recent snapshot could be had (check snapshot-before-change): nothing was executed. */
  | "snapshot-missing"
  /**
   * The versions the members run refuse the manifest's etcd version (a minor
   * skip or a downgrade from what they really run): nothing was executed.
   */
  | "version-refused"
  /** spec.restore's snapshot is missing or corrupt (checked before any change set): nothing was created. */
  | "restore-refused"
  /** The change would replace the Auto Scaling Group (a new, empty cluster) outside a restore: nothing was executed. */
  | "replacement-refused"
  | "error";

export interface ApplyOutcome {
  cluster: string;
  result: ApplyResult;
  message: string;
  plan?: ClusterPlan;
  gate?: GateResult;
  /** The check that held the change, when it was not the health gate. */
  check?: typeof SNAPSHOT_CHECK;
  /** True when this run executed a change set (false when it only supervised). */
  executed: boolean;
}

export interface ApplyDeps {
  aws: AwsClientPool;
  amiFeed: AmiFeed;
  etcd: EtcdClientOptions;
  onEvent: EventSink;
  /** Every probe of the members while supervising (the reconciler keeps them in the status). */
  onProbe?: (cluster: string, probe: ClusterProbe) => void;
  signal?: AbortSignal;
  now?: () => number;
  /** Observation interval while supervising. */
  tickMs?: number;
  /** How often a held hook gets a heartbeat (default: a third of the hook timeout, at most 60 s). */
  heartbeatEveryMs?: number;
  /** After a minor upgrade: how long to wait for etcd to move the cluster version (default 15 s). */
  clusterVersionWaitMs?: number;
}

export interface ApplyOptions {
  revision: string;
  /** This quorate's owner name (default "default"): a stack with another owner is refused. */
  owner?: string;
  /** Asked with the plan before anything is executed; absent means yes. */
  confirm?: (plan: ClusterPlan) => Promise<boolean>;
}

export function rolloutFacts(spec: ClusterSpec, heartbeatEveryMs?: number): RolloutFacts {
  const hookMs = durationMs(spec.updatePolicy.lifecycleHookTimeout);
  return {
    cluster: spec.name,
    stackName: spec.stackName,
    scheme: spec.etcd.tls.enabled ? "https" : "http",
    clientPort: spec.etcd.clientPort,
    peerPort: spec.etcd.peerPort,
    gates: spec.gates,
    deadMemberGraceMs: durationMs(spec.gates.deadMemberGrace),
    quotaBytes: BigInt(spec.etcd.quotaBackendBytes),
    abortAfterMs: durationMs(spec.gates.abortAfter),
    heartbeatEveryMs: heartbeatEveryMs ?? Math.min(Math.floor(hookMs / 3), 60_000),
    size: spec.size,
    ...(spec.restore
      ? { restoreGroupName: restoreGroupName(spec.stackName, spec.restore.id) }
      : {}),
  };
}

export async function applyCluster(
  deps: ApplyDeps,
  spec: ClusterSpec,
  options: ApplyOptions,
): Promise<ApplyOutcome> {
  const aws = deps.aws(spec.region, spec.account);
  const facts = rolloutFacts(spec, deps.heartbeatEveryMs);
  const imageId = await deps.amiFeed.resolve(spec);
  const rendered = renderStack(spec, { imageId });
  const preview = await previewCluster(aws, spec, rendered, {
    revision: options.revision,
    owner: options.owner ?? DEFAULT_OWNER,
    keep: true,
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  const base = { cluster: spec.name, plan: preview.plan };

  if (preview.state === "in-progress") {
    emit(
      deps,
      spec,
      "stack-status",
      `stack is ${preview.live?.status}: supervising the operation under way, executing nothing`,
    );
    return fromRollout(base, await supervise(deps, aws, facts), false);
  }
  if (preview.plan.status === "error") {
    const result: ApplyResult =
      preview.restoreRefused !== undefined
        ? "restore-refused"
        : preview.replacementRefused !== undefined
          ? "replacement-refused"
          : preview.changeSetFailed !== undefined
            ? "change-set-failed"
            : preview.state === "needs-operator" || preview.state === "not-ours"
              ? "needs-operator"
              : "error";
    return { ...base, result, message: preview.plan.error ?? "planning failed", executed: false };
  }
  if (!preview.changeSet) {
    await syncTerminationProtection(aws, spec, preview);
    return { ...base, result: "no-change", message: "no changes", executed: false };
  }
  const { id: changeSetId, type } = preview.changeSet;
  const rollout = rolloutSentence(preview.plan);
  const version = preview.plan.etcdVersion?.message;
  emit(
    deps,
    spec,
    "plan",
    `plan: ${clusterHeadline(preview.plan)}${rollout ? `; ${rollout}` : ""}${version ? `; ${version}` : ""}`,
  );
  const discard = () => discardChangeSet(aws, spec.stackName, changeSetId, type);

  if (options.confirm && !(await options.confirm(preview.plan))) {
    await discard();
    return { ...base, result: "declined", message: "not applied: declined", executed: false };
  }
  if (type === "UPDATE" && preview.plan.snapshotBeforeChange) {
    // Before the gate, and before a failed member is healed (which replaces
    // it): the snapshot is the way back if any replacement goes wrong.
    const snapshot = await snapshotBeforeChange(
      snapshotDeps(deps),
      spec,
      preview.plan.snapshotBeforeChange,
    );
    emit(deps, spec, "snapshot", snapshot.message);
    if (!snapshot.ok) {
      const other = await executedElsewhere(aws, spec, rendered.templateSha256, changeSetId);
      if (other && other.kind !== "ours") return joinOther(deps, aws, facts, spec, base, other);
      await discard();
      return {
        ...base,
        result: "snapshot-missing",
        check: SNAPSHOT_CHECK,
        message: snapshot.message,
        executed: false,
      };
    }
  }
  // A restore replaces the cluster with one started from its snapshot: the
  // old one's health is not what it waits for (it may have lost quorum).
  if (preview.plan.restore?.applies) {
    emit(deps, spec, "restore", restoreSentence(preview.plan) ?? "restoring");
  } else if (type === "UPDATE") {
    let gate = await preExecutionGate(deps, aws, facts, spec);
    emit(deps, spec, "gate", formatGateResult(gate));
    if (mayHealFirst(gate)) {
      // A member is down while the others hold quorum: replace it first, the
      // way etcd wants a failed member replaced (remove, then add), so that
      // the rollout starts from a whole cluster. Supervision does that once
      // the member has been silent for deadMemberGrace.
      emit(
        deps,
        spec,
        "waiting",
        `a member is down: it is removed and replaced first (remove, then add) once silent for ${spec.gates.deadMemberGrace}, then the change is applied`,
      );
      await supervise(deps, aws, facts, {
        settleMs:
          durationMs(spec.gates.deadMemberGrace) + durationMs(spec.gates.stableFor) + 10_000,
      });
      gate = await preExecutionGate(deps, aws, facts, spec);
      emit(deps, spec, "gate", formatGateResult(gate));
    }
    if (!gate.passed) {
      // While this quorate waited on its gate, another one (a CI pass and a box
      // after the same merge) may have executed: its rollout is what the gate
      // saw (a launched instance not yet a member), and it is to be supervised.
      const other = await executedElsewhere(aws, spec, rendered.templateSha256, changeSetId);
      if (other && other.kind !== "ours") return joinOther(deps, aws, facts, spec, base, other);
      await discard();
      const failed = gate.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.message}`);
      return {
        ...base,
        gate,
        result: "gate-blocked",
        message: `not applied, the health gate failed: ${failed.join("; ")}`,
        executed: false,
      };
    }
    const refusal = liveVersionRefusal(gate, spec.etcd.version);
    if (refusal) {
      await discard();
      return {
        ...base,
        gate,
        result: "version-refused",
        message: `not applied: ${refusal}`,
        executed: false,
      };
    }
  }
  try {
    await executeChangeSet(aws.cloudFormation, changeSetId, spec.stackName);
  } catch (error) {
    const other = await executedElsewhere(aws, spec, rendered.templateSha256, changeSetId);
    if (!other) throw error;
    if (other.kind !== "ours") return joinOther(deps, aws, facts, spec, base, other);
  }
  // The operation runs once ExecuteChangeSet returns: the rollout has started.
  emit(
    deps,
    spec,
    "stack-status",
    `executed change set ${changeSetId.split("/").pop() ?? changeSetId}`,
    { stackStatus: `${type}_IN_PROGRESS` },
  );
  const rolled = await supervise(deps, aws, facts);
  const outcome = fromRollout(base, rolled, true);
  if (outcome.result === "applied") {
    await syncTerminationProtection(aws, spec, preview);
    const target = minorUpgradeTarget(preview.plan);
    if (target) await reportClusterVersion(deps, aws, facts, spec, target);
    // Last, and only by the quorate that executed it (a second supervisor of
    // the same rollout would record it twice): the history is for the next
    // plan, so a rolling update of the members that completed is recorded; a
    // rollback, a create or a restore's new group is not.
    if (rolled.stackStatus === "UPDATE_COMPLETE" && membersRoll(preview.plan))
      await recordHistory(deps, aws, spec, rolled);
  }
  return outcome;
}

/** A failure to write the history is an event and a metric, never the rollout's outcome. */
async function recordHistory(
  deps: ApplyDeps,
  aws: AwsClients,
  spec: ClusterSpec,
  rolled: RolloutOutcome,
): Promise<void> {
  const recorded = await recordRollout({
    asg: aws.autoScaling,
    groupName: rolled.groupName,
    memberSeconds: rolled.memberSeconds,
    ...(deps.now ? { now: deps.now } : {}),
  });
  if (recorded.kind === "skipped") return;
  const type = recorded.kind === "recorded" ? "history-recorded" : "history-failed";
  emit(deps, spec, type, recorded.message);
}

function snapshotDeps(deps: ApplyDeps) {
  const now = deps.now;
  return {
    aws: deps.aws,
    etcd: deps.etcd,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(now ? { now: () => new Date(now()) } : {}),
  };
}

/**
 * After a failed ExecuteChangeSet: did another quorate (a CI pass and a box
 * after the same merge) execute first? AWS deletes every other change set of a
 * stack once one is executed, so ours is gone. Its rollout is then the one to
 * supervise, or already done; executing again would start a second rollout.
 */
async function executedElsewhere(
  aws: AwsClients,
  spec: ClusterSpec,
  templateSha256: string,
  changeSetId: string,
): Promise<{ kind: "ours" } | { kind: "running" | "done"; message: string } | undefined> {
  const live = await describeStack(aws.cloudFormation, spec.stackName).catch(() => undefined);
  if (!live) return undefined;
  // Our own change set after all: the call failed after CloudFormation took it.
  if (live.changeSetId === changeSetId) return { kind: "ours" };
  if (stackState(live) === "in-progress") {
    return {
      kind: "running",
      message: `stack is ${live.status}: another quorate executed its change set first; supervising that rollout, executing nothing`,
    };
  }
  if (stackState(live) === "settled" && live.tags[STACK_TAG.templateSha256] === templateSha256) {
    return {
      kind: "done",
      message: `another quorate already applied this template (stack ${live.status}); nothing to execute`,
    };
  }
  return undefined;
}

/** Another quorate's execution: done already, or a rollout this one supervises. */
async function joinOther(
  deps: ApplyDeps,
  aws: AwsClients,
  facts: RolloutFacts,
  spec: ClusterSpec,
  base: { cluster: string; plan: ClusterPlan },
  other: { kind: "running" | "done"; message: string },
): Promise<ApplyOutcome> {
  emit(deps, spec, "stack-status", other.message);
  if (other.kind === "done")
    return { ...base, result: "applied", message: other.message, executed: false };
  return fromRollout(base, await supervise(deps, aws, facts), false);
}

/**
 * After a minor upgrade has rolled: etcd moves the cluster version once every
 * member runs the new minor version. Said as an event either way, so that a
 * member left on the old version is seen, not assumed.
 */
async function reportClusterVersion(
  deps: ApplyDeps,
  aws: AwsClients,
  facts: RolloutFacts,
  spec: ClusterSpec,
  target: string,
): Promise<void> {
  const probeTimeoutMs = durationMs(spec.gates.probeTimeout);
  const observer = createObserver(aws, facts, { ...deps.etcd, probeTimeoutMs }, deps.now);
  const observation = await observer.observe(deps.signal);
  const endpoints = (observation.probe?.members ?? []).flatMap((m) => m.clientURLs.slice(0, 1));
  const check = await confirmClusterVersion({
    endpoints,
    etcd: { ...deps.etcd, timeoutMs: probeTimeoutMs },
    target,
    waitMs: deps.clusterVersionWaitMs ?? 15_000,
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
  deps.onEvent({
    at: new Date((deps.now ?? Date.now)()).toISOString(),
    cluster: spec.name,
    type: "etcd-version",
    message: check.message,
    clusterVersion: {
      target,
      reached: check.reached,
      ...(check.clusterVersion ? { version: check.clusterVersion } : {}),
    },
  });
}

/** The gate failed only because members are down, with quorum intact: healing can help. */
function mayHealFirst(gate: GateResult): boolean {
  const t = gate.summary.faultTolerance;
  return (
    !gate.passed &&
    gate.failed.every((name) => name === "members-healthy" || name === "stable") &&
    t !== undefined &&
    t.tolerates >= 0 &&
    t.tolerates < t.resting
  );
}

function supervise(
  deps: ApplyDeps,
  aws: AwsClients,
  facts: RolloutFacts,
  options: { settleMs?: number } = {},
): Promise<RolloutOutcome> {
  return superviseRollout({
    ...options,
    aws,
    facts,
    etcd: { ...deps.etcd, probeTimeoutMs: durationMs(facts.gates.probeTimeout) },
    onEvent: deps.onEvent,
    ...(deps.onProbe ? { onProbe: deps.onProbe } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.tickMs ? { tickMs: deps.tickMs } : {}),
  });
}

/**
 * Before executing against a live cluster: every check must hold for
 * gates.stableFor. A check that fails twice in a row refuses the change (one
 * failed probe may be a blip, such as a leader election in progress).
 */
async function preExecutionGate(
  deps: ApplyDeps,
  aws: AwsClients,
  facts: RolloutFacts,
  spec: ClusterSpec,
): Promise<GateResult> {
  const now = deps.now ?? Date.now;
  const observer = createObserver(
    aws,
    facts,
    { ...deps.etcd, probeTimeoutMs: durationMs(spec.gates.probeTimeout) },
    now,
  );
  const stableForMs = durationMs(spec.gates.stableFor);
  const interval = Math.min(1000, Math.max(100, Math.floor(stableForMs / 5)));
  let memory: GateMemory | undefined;
  let failures = 0;
  for (;;) {
    const observation = await observer.observe(deps.signal);
    const desiredSize = observation.desiredCapacity ?? spec.size;
    if (!observation.probe) {
      return syntheticFailure(now(), `no instance of ${spec.stackName} has an address to probe`);
    }
    const { result, memory: next } = evaluateGate(
      observation.probe,
      { desiredSize, cluster: spec.name },
      spec.gates,
      memory,
      now(),
    );
    memory = next;
    if (result.passed) return result;
    const onlyWaiting = result.failed.every((name) => name === "stable");
    failures = onlyWaiting ? 0 : failures + 1;
    if (failures >= 2) return result;
    await sleep(interval, deps.signal);
  }
}

function syntheticFailure(at: number, message: string): GateResult {
  return {
    passed: false,
    at,
    checks: [{ name: "members-healthy", passed: false, message }],
    failed: ["members-healthy"],
    summary: {
      judged: 0,
      healthyVoters: 0,
      leaderDeparting: false,
      departing: [],
      joining: [],
      heldForMs: 0,
      stableForMs: 0,
      versions: [],
    },
  };
}

function fromRollout(
  base: { cluster: string; plan: ClusterPlan },
  rollout: RolloutOutcome,
  executed: boolean,
): ApplyOutcome {
  const result: ApplyResult =
    rollout.result === "complete"
      ? "applied"
      : rollout.result === "rolled-back"
        ? "rolled-back"
        : rollout.result === "absent"
          ? "error"
          : "needs-operator";
  return {
    ...base,
    result,
    message: rollout.message,
    ...(rollout.gate ? { gate: rollout.gate } : {}),
    executed,
  };
}

/** Termination protection is not part of a template; CloudFormation sets it with its own call. */
async function syncTerminationProtection(
  aws: AwsClients,
  spec: ClusterSpec,
  preview: ClusterPreview,
): Promise<void> {
  const current =
    preview.state === "settled" ? (preview.live?.terminationProtection ?? false) : false;
  if (current !== spec.terminationProtection) {
    await setTerminationProtection(aws.cloudFormation, spec.stackName, spec.terminationProtection);
  }
}

function emit(
  deps: Pick<ApplyDeps, "onEvent" | "now">,
  spec: ClusterSpec,
  type: Parameters<EventSink>[0]["type"],
  message: string,
  extra: Pick<Parameters<EventSink>[0], "stackStatus"> = {},
): void {
  deps.onEvent({
    at: new Date((deps.now ?? Date.now)()).toISOString(),
    cluster: spec.name,
    type,
    message,
    ...extra,
  });
}
