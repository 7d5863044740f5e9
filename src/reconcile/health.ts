// The health of clusters that are in sync, for their HealthGatePassed
// condition: the groups and instances of a whole region are read in a few
// batched calls (50 groups, 200 instances each), so a no-op pass stays cheap.
import type { AwsClients } from "../aws/clients.js";
import { describeGroups } from "../aws/groups.js";
import { describeInstances } from "../aws/instances.js";
import type { LiveStack } from "../aws/stacks.js";
import type { EtcdClientOptions } from "../etcd/client.js";
import { evaluateGate, type GateMemory, type GateResult } from "../etcd/gate.js";
import { probeCluster } from "../etcd/probe.js";
import type { ClusterProbe } from "../etcd/types.js";
import { durationMs } from "../manifest/duration.js";
import type { ClusterSpec } from "../manifest/types.js";
import { MEMBER_STATES } from "./rollout/observation.js";

export interface HealthResult {
  gate: GateResult;
  /** What the gate was evaluated on: the database sizes come from it too. */
  probe: ClusterProbe;
}

export interface HealthTarget {
  spec: ClusterSpec;
  stack: LiveStack;
}

/** Probes every target of one region; clusters whose group cannot be found get no result. */
export async function probeRegionHealth(
  aws: AwsClients,
  targets: readonly HealthTarget[],
  etcd: EtcdClientOptions,
  memories: Map<string, GateMemory>,
  now: () => number,
): Promise<Map<string, HealthResult>> {
  const results = new Map<string, HealthResult>();
  const groupOf = (t: HealthTarget) => t.stack.outputs.GroupName;
  const named = targets.filter((t) => groupOf(t));
  if (named.length === 0) return results;
  const names = named.map((t) => groupOf(t) ?? "");
  const groups = await describeGroups(aws.autoScaling, names);
  const instanceIds = [...groups.values()].flatMap((g) => g.instances.map((i) => i.instanceId));
  const instances = await describeInstances(aws.ec2, instanceIds);
  await Promise.all(
    named.map(async ({ spec, stack }) => {
      const group = groups.get(stack.outputs.GroupName ?? "");
      if (!group) return;
      const scheme = spec.etcd.tls.enabled ? "https" : "http";
      const endpoints = group.instances
        .filter((i) => MEMBER_STATES.has(i.lifecycleState))
        .flatMap((i) => {
          const ip = instances.get(i.instanceId)?.privateIp;
          return ip ? [`${scheme}://${ip}:${spec.etcd.clientPort}`] : [];
        });
      if (endpoints.length === 0) return;
      const probe = await probeCluster(endpoints, {
        ...etcd,
        timeoutMs: durationMs(spec.gates.probeTimeout),
        now,
      });
      const { result, memory } = evaluateGate(
        probe,
        { desiredSize: group.desiredCapacity, cluster: spec.name },
        spec.gates,
        memories.get(spec.name),
        now(),
      );
      memories.set(spec.name, memory);
      results.set(spec.name, { gate: result, probe });
    }),
  );
  return results;
}
