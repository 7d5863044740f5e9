// The automatic defragmentation of one member in `quorate run`, as a task of
// the reconciler: the member was chosen by the pure decideAutoDefrag from the
// last health probe, and is defragmented through the same code as `quorate
// maintain --defrag` (gated; a leader only after leadership moved away). It
// reports through rollout events and never throws: a failure is an event with
// defragResult "failed", and the cluster is tried again after minInterval.
import type { AwsClientPool, AwsClients } from "../aws/clients.js";
import type { LiveStack } from "../aws/stacks.js";
import { describeError } from "../errors.js";
import type { EtcdClientOptions } from "../etcd/client.js";
import { formatGateResult } from "../etcd/gate.js";
import { hexId } from "../etcd/wire.js";
import { type AutoDefragPolicy, decideAutoDefrag } from "../maintenance/autoDefrag.js";
import { DEFAULT_KEEP_REVISIONS, type MemberDb, membersOf } from "../maintenance/decide.js";
import { runMaintenance } from "../maintenance/maintain.js";
import { createMaintenanceObserver } from "../maintenance/observe.js";
import { durationMs } from "../manifest/duration.js";
import type { ClusterSpec, MaintenanceSpec } from "../manifest/types.js";
import type { HealthResult } from "./health.js";
import type { DefragResult, EventSink } from "./rollout/events.js";
import type { TaskSlots } from "./taskSlots.js";

export interface AutoDefragDeps {
  aws: AwsClients;
  etcd: EtcdClientOptions;
  onEvent: EventSink;
  now: () => number;
  /** Pause between gate evaluations while the gate holds (default 1000 ms). */
  intervalMs?: number;
  signal?: AbortSignal;
}

export function autoDefragPolicy(maintenance: MaintenanceSpec): AutoDefragPolicy {
  return {
    autoDefrag: maintenance.autoDefrag,
    fragmentationThreshold: maintenance.fragmentationThreshold,
    minDbSizeBytes: maintenance.minDbSizeBytes,
    minIntervalMs: durationMs(maintenance.minInterval),
  };
}

/**
 * How long a failed gate may hold an automatic defragmentation: it is
 * optional, and while it runs a change from git waits, so it gives way well
 * before gates.abortAfter would stop a rollout.
 */
export function autoDefragAbortAfterMs(spec: ClusterSpec): number {
  return Math.min(durationMs(spec.gates.abortAfter), 2 * durationMs(spec.gates.stableFor) + 60_000);
}

export async function runAutoDefrag(
  deps: AutoDefragDeps,
  spec: ClusterSpec,
  member: MemberDb,
  why: string,
): Promise<DefragResult> {
  const event = (message: string, defragResult?: DefragResult) =>
    deps.onEvent({
      at: new Date(deps.now()).toISOString(),
      cluster: spec.name,
      type: "defrag",
      memberId: hexId(member.id),
      message,
      ...(defragResult ? { defragResult } : {}),
    });
  event(`automatic defragmentation (spec.maintenance.autoDefrag) of ${why}`);
  try {
    const outcome = await runMaintenance(
      {
        cluster: spec.name,
        gates: spec.gates,
        abortAfterMs: autoDefragAbortAfterMs(spec),
        quotaBytes: BigInt(spec.etcd.quotaBackendBytes),
        observe: createMaintenanceObserver(deps.aws, spec, deps.etcd, deps.now).observe,
        etcd: deps.etcd,
        onEvent: (message) => event(message),
        now: deps.now,
        ...(deps.intervalMs ? { intervalMs: deps.intervalMs } : {}),
        ...(deps.signal ? { signal: deps.signal } : {}),
      },
      { steps: ["defrag"], keepRevisions: DEFAULT_KEEP_REVISIONS, members: [member.id] },
    );
    // "refused" belongs to --disarm, which this never asks for.
    const result: DefragResult = outcome.result === "done" ? "done" : "gate-blocked";
    event(
      result === "done"
        ? `automatic defragmentation done: ${outcome.message}`
        : `automatic defragmentation gave way, tried again after spec.maintenance.minInterval: ${outcome.message}`,
      result,
    );
    return result;
  } catch (error) {
    // Stopping: the member is left as it is (a defragmentation cut off is harmless), and nothing is worth saying.
    if (deps.signal?.aborted) return "failed";
    event(
      `automatic defragmentation of ${member.name} failed, tried again after spec.maintenance.minInterval: ${describeError(error)}`,
      "failed",
    );
    return "failed";
  }
}

export interface AutoDefragStarterOptions {
  /** `quorate run` turns it on; a one-shot pass never defragments. */
  enabled: boolean;
  aws: AwsClientPool;
  etcd: EtcdClientOptions;
  onEvent: EventSink;
  now: () => number;
  tickMs?: number;
  slots: TaskSlots;
}

/**
 * After a pass has probed a cluster in sync: a Ready cluster whose gate passed
 * and one of whose members is fragmented (decideAutoDefrag) gets that member
 * defragmented in the background, as a task in the cluster's slot like a
 * rollout, so that no pass applies or supervises it until it ends and no
 * second one starts.
 */
export function createAutoDefragStarter(options: AutoDefragStarterOptions) {
  const { slots, now } = options;
  /** When each cluster's last automatic defragmentation ended. */
  const lastDefragAt = new Map<string, number>();
  return function startDefrag(
    spec: ClusterSpec,
    stack: LiveStack,
    health: HealthResult,
    signal?: AbortSignal,
  ): Promise<void> | undefined {
    if (!options.enabled || !spec.maintenance.autoDefrag) return undefined;
    const unsettled = slots.has(spec.name)
      ? "a task of this cluster is running"
      : slots.full()
        ? `${slots.count()} tasks run already (--concurrency ${slots.limit})`
        : stack.status.endsWith("_IN_PROGRESS")
          ? `stack ${stack.stackName} is ${stack.status}`
          : health.gate.passed
            ? undefined
            : `the health gate has not passed: ${formatGateResult(health.gate)}`;
    const last = lastDefragAt.get(spec.name);
    const decision = decideAutoDefrag({
      policy: autoDefragPolicy(spec.maintenance),
      members: membersOf(health.probe),
      ...(unsettled ? { unsettled } : {}),
      ...(last !== undefined ? { lastDefragAt: last } : {}),
      now: now(),
    });
    if (!decision.defrag) return undefined;
    const deps = {
      aws: options.aws(spec.region, spec.account),
      etcd: options.etcd,
      onEvent: options.onEvent,
      now,
      ...(options.tickMs ? { intervalMs: options.tickMs } : {}),
      ...(signal ? { signal } : {}),
    };
    const task = runAutoDefrag(deps, spec, decision.member, decision.message).then(() => {
      lastDefragAt.set(spec.name, now());
    });
    return slots.track(spec.name, "defragmentation", task);
  };
}
