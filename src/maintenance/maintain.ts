// Running etcd maintenance on one cluster, gated like a rollout: before each
// step (and before each member's defragmentation) the health gate must pass,
// with NOSPACE tolerated since that is what is being cleared. A failed gate
// holds; past gates.abortAfter the maintenance stops with nothing more done.
import { sleep } from "../aws/stacks.js";
import { createEtcdClient, type EtcdClient, type EtcdClientOptions } from "../etcd/client.js";
import { isEtcdError } from "../etcd/errors.js";
import { evaluateGate, formatGateResult, type GateMemory, type GateResult } from "../etcd/gate.js";
import type { ClusterProbe } from "../etcd/types.js";
import type { GatePolicy } from "../manifest/types.js";
import {
  compactionTarget,
  defragOrder,
  disarmDecision,
  formatBytes,
  type MaintenanceStep,
  membersOf,
  stepsInOrder,
} from "./decide.js";

export interface MaintenanceObservation {
  /** Undefined when no member has an address to probe. */
  probe?: ClusterProbe;
  /** How many members the cluster should have (the group's desired capacity). */
  desiredSize: number;
  /** Set when a rollout or another stack operation is under way: maintenance waits for none. */
  busy?: string;
}

export interface MaintenanceDeps {
  cluster: string;
  gates: GatePolicy;
  abortAfterMs: number;
  quotaBytes: bigint;
  observe(signal?: AbortSignal): Promise<MaintenanceObservation>;
  etcd: EtcdClientOptions;
  onEvent(message: string): void;
  now?: () => number;
  /** Pause between gate evaluations while the gate holds; default 1000 ms. */
  intervalMs?: number;
  /** Time limit of one member's defragmentation (it grows with the database); default 5 min. */
  defragTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface MaintenanceOptions {
  steps: Iterable<MaintenanceStep>;
  keepRevisions: bigint;
  /** Defragment only these members (ids), in the same order and with the same care; default all. */
  members?: readonly bigint[];
}

/**
 * - done: every step ran (or had nothing to do);
 * - gate-blocked: the gate failed for longer than gates.abortAfter, or a rollout is under way;
 * - refused: NOSPACE stays armed because a database is still over the quota.
 */
export type MaintenanceResult = "done" | "gate-blocked" | "refused";

export interface MaintenanceOutcome {
  result: MaintenanceResult;
  message: string;
  gate?: GateResult;
}

class Stop extends Error {
  constructor(readonly outcome: MaintenanceOutcome) {
    super(outcome.message);
  }
}

export async function runMaintenance(
  deps: MaintenanceDeps,
  options: MaintenanceOptions,
): Promise<MaintenanceOutcome> {
  const now = deps.now ?? Date.now;
  const clients = new Map<string, EtcdClient>();
  const client = (endpoint: string) => {
    let c = clients.get(endpoint);
    if (!c) {
      c = createEtcdClient(endpoint, deps.etcd);
      clients.set(endpoint, c);
    }
    return c;
  };
  let memory: GateMemory | undefined;

  /** Observes until the gate passes; throws Stop once it has failed for abortAfter. */
  async function passGate(before: string): Promise<ClusterProbe> {
    const since = now();
    let lastLine = "";
    for (;;) {
      const observation = await deps.observe(deps.signal);
      let line: string;
      let gate: GateResult | undefined;
      if (observation.busy) {
        line = `holding before ${before}: ${observation.busy}; maintenance never runs during a rollout`;
      } else if (!observation.probe) {
        line = `holding before ${before}: no member has an address to probe`;
      } else {
        const evaluated = evaluateGate(
          observation.probe,
          { desiredSize: observation.desiredSize, cluster: deps.cluster, tolerateNoSpace: true },
          deps.gates,
          memory,
          now(),
        );
        memory = evaluated.memory;
        gate = evaluated.result;
        if (gate.passed) {
          deps.onEvent(`${before}: ${formatGateResult(gate)}`);
          return observation.probe;
        }
        line = `holding before ${before}: ${formatGateResult(gate)}`;
      }
      // The stable clock's countdown changes every tick; say a hold once per cause.
      const cause = line.replace(/held for \S+ of/, "held for _ of");
      if (cause !== lastLine) deps.onEvent(line);
      lastLine = cause;
      if (now() - since >= deps.abortAfterMs) {
        throw new Stop({
          result: "gate-blocked",
          message: `stopped before ${before}: the gate has not passed for ${Math.round(deps.abortAfterMs / 1000)}s (gates.abortAfter): ${line.replace(/^holding before [^:]+: /, "")}`,
          ...(gate ? { gate } : {}),
        });
      }
      await sleep(deps.intervalMs ?? 1000, deps.signal);
    }
  }

  try {
    const done: string[] = [];
    for (const step of stepsInOrder(options.steps)) {
      if (step === "compact") done.push(await compact(await passGate("compact"), options));
      if (step === "defrag") done.push(await defragAll());
      if (step === "disarm") done.push(await disarm(await passGate("disarm")));
    }
    return { result: "done", message: done.join("; ") };
  } catch (error) {
    if (error instanceof Stop) return error.outcome;
    throw error;
  } finally {
    for (const c of clients.values()) c.close();
  }

  async function compact(probe: ClusterProbe, opts: MaintenanceOptions): Promise<string> {
    const leader = membersOf(probe).find((m) => m.leader);
    const current = leaderRevision(probe);
    if (!leader || current === undefined) throw new Error("no leader reported a revision");
    const decision = compactionTarget(current, opts.keepRevisions);
    if (!decision.compact) {
      deps.onEvent(decision.message);
      return decision.message;
    }
    try {
      await client(leader.endpoint).compact(decision.revision, { timeoutMs: 60_000 });
    } catch (error) {
      // Compacting at or below an earlier compaction is no error for us: it is done.
      if (!isEtcdError(error, "compacted")) throw error;
      const message = `revision ${decision.revision} was already compacted`;
      deps.onEvent(message);
      return message;
    }
    const message = `compacted to revision ${decision.revision} (current ${current}, the last ${opts.keepRevisions} kept)`;
    deps.onEvent(message);
    return message;
  }

  async function defragAll(): Promise<string> {
    const first = await passGate("defragmenting");
    const only = options.members;
    const order = defragOrder(membersOf(first)).filter((m) => !only || only.includes(m.id));
    if (order.length === 0) return "no member to defragment: the member asked for has left";
    const results: string[] = [];
    for (const planned of order) {
      const probe = await passGate(`defragmenting ${planned.name}`);
      let member = membersOf(probe).find((m) => m.id === planned.id);
      if (!member) throw new Error(`member ${planned.name} is no longer in the cluster`);
      // A one-member cluster has no one to hand leadership to: its leader is defragmented in place.
      if (member.leader && membersOf(probe).length > 1) {
        // Chosen here rather than by membership's transfer, which wants /health
        // true: while NOSPACE stands, etcd 3.4 answers false on every member.
        const to = defragOrder(membersOf(probe)).find((m) => !m.leader && !m.learner);
        if (!to) throw new Error(`no voting member can take over leadership from ${member.name}`);
        // etcd answers MoveLeader once the transfer is done (or has failed).
        await client(member.endpoint).transferLeadership(to.id, { timeoutMs: 15_000 });
        deps.onEvent(`moved leadership from ${member.name} to ${to.name} before defragmenting it`);
        member = membersOf(await passGate(`defragmenting ${planned.name}`)).find(
          (m) => m.id === planned.id,
        );
        if (!member) throw new Error(`member ${planned.name} is no longer in the cluster`);
      }
      deps.onEvent(
        `defragmenting ${member.name}: ${formatBytes(member.dbSize)}, ${formatBytes(member.dbSizeInUse)} in use`,
      );
      const c = client(member.endpoint);
      const started = now();
      await c.defragment({ timeoutMs: deps.defragTimeoutMs ?? 300_000 });
      const after = await c.status();
      const line = `defragmented ${member.name} in ${now() - started} ms: ${formatBytes(member.dbSize)} → ${formatBytes(after.dbSize)}`;
      deps.onEvent(line);
      results.push(line.replace(/^defragmented /, ""));
    }
    return `defragmented ${results.join(", ")}`;
  }

  async function disarm(probe: ClusterProbe): Promise<string> {
    const members = membersOf(probe);
    const decision = disarmDecision(probe.alarms ?? [], members, deps.quotaBytes);
    if (!decision.disarm) {
      deps.onEvent(decision.message);
      if (decision.refused) throw new Stop({ result: "refused", message: decision.message });
      return decision.message;
    }
    const target = members.find((m) => m.leader) ?? members[0];
    if (!target) throw new Error("no member to send the disarm to");
    for (const alarm of decision.alarms) {
      await client(target.endpoint).deactivateAlarm(alarm.memberId, "NOSPACE");
    }
    const left = (await client(target.endpoint).alarms()).filter((a) => a.alarm === "NOSPACE");
    if (left.length > 0) throw new Error("NOSPACE is still listed after DEACTIVATE");
    const message = `disarmed NOSPACE: ${decision.message}`;
    deps.onEvent(message);
    return message;
  }
}

function leaderRevision(probe: ClusterProbe): bigint | undefined {
  const leader = probe.endpoints.find(
    (ep) => ep.status && ep.status.leader === ep.status.header.memberId,
  );
  return leader?.status?.header.revision;
}
