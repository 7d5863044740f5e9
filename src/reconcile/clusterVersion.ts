// etcd's version rules against the live members, at the two moments apply
// meets them: before executing (the members' own versions, from the gate's
// probe, against the manifest's) and after a minor upgrade has rolled (has
// the cluster version moved?). The template comparison in plan/etcdVersion.ts
// cannot see what the members really run: an interrupted rollout, or members
// changed by hand, leave them on another version than the live template says.
import { sleep } from "../aws/stacks.js";
import { createEtcdClient, type EtcdClientOptions } from "../etcd/client.js";
import type { GateResult } from "../etcd/gate.js";
import {
  type ClusterVersionCheck,
  checkClusterVersion,
  checkLiveVersions,
  type MemberVersion,
} from "../etcd/versionRules.js";
import type { ClusterPlan } from "../plan/model.js";

/** Why the members' versions forbid the manifest's, with what to do; undefined when allowed or unknown. */
export function liveVersionRefusal(gate: GateResult, target: string): string | undefined {
  const verdict = checkLiveVersions(gate.summary.versions, target);
  if (!verdict || verdict.allowed) return undefined;
  return `the members' etcd versions refuse spec.etcd.version ${target}: ${verdict.message}; ${verdict.hint}`;
}

/** The manifest's version when the plan is a minor upgrade (the one step that moves the cluster version). */
export function minorUpgradeTarget(plan: Pick<ClusterPlan, "etcdVersion">): string | undefined {
  const step = plan.etcdVersion;
  return step?.allowed && step.step === "minor-upgrade" ? step.to : undefined;
}

export interface ClusterVersionProbe {
  /** Client URLs of the members (one per member is enough). */
  endpoints: readonly string[];
  etcd: EtcdClientOptions;
  target: string;
  /** How long to wait for etcd to move the cluster version (it does so a few seconds after the last member joins). */
  waitMs: number;
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Asks every member GET /version until the cluster version is the target's
 * minor version or waitMs has passed; the last answer is the result. Never
 * throws for a silent member: it is left out of the versions it reports.
 */
export async function confirmClusterVersion(
  probe: ClusterVersionProbe,
): Promise<ClusterVersionCheck> {
  const deadline = Date.now() + probe.waitMs;
  for (;;) {
    const answers = await Promise.all(
      probe.endpoints.map(async (endpoint) => {
        const client = createEtcdClient(endpoint, probe.etcd);
        try {
          return {
            endpoint,
            ...(await client.version(probe.signal ? { signal: probe.signal } : {})),
          };
        } catch {
          return undefined;
        } finally {
          client.close();
        }
      }),
    );
    const members: MemberVersion[] = answers.flatMap((a) =>
      a ? [{ name: new URL(a.endpoint).hostname, version: a.server }] : [],
    );
    // Every member reports the cluster version it has applied; the lowest is the truth
    // until they agree (an empty one is a member that has not decided yet).
    const reported = answers.flatMap((a) => (a?.cluster ? [a.cluster] : []));
    const check = checkClusterVersion(lowest(reported), members, probe.target);
    if (check.reached || Date.now() >= deadline || probe.signal?.aborted) return check;
    await sleep(probe.intervalMs ?? 1000, probe.signal).catch(() => undefined);
  }
}

function lowest(versions: readonly string[]): string | undefined {
  return [...versions].sort((a, b) => a.localeCompare(b, "en", { numeric: true }))[0];
}
