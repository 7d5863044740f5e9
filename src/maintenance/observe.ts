// What maintenance looks at before each step, for `quorate maintain` and for
// `quorate run`'s automatic defragmentation alike: the rollout observer's
// probe of the members, the group's desired size, and whether the stack is
// busy (maintenance never runs while a stack operation is under way).
import type { AwsClients } from "../aws/clients.js";
import type { EtcdClientOptions } from "../etcd/client.js";
import { durationMs } from "../manifest/duration.js";
import type { ClusterSpec } from "../manifest/types.js";
import { rolloutFacts } from "../reconcile/apply.js";
import { createObserver } from "../reconcile/rollout/observe.js";
import type { MaintenanceObservation } from "./maintain.js";

export interface MaintenanceObserver {
  observe(signal?: AbortSignal): Promise<MaintenanceObservation>;
}

export function createMaintenanceObserver(
  aws: AwsClients,
  spec: ClusterSpec,
  etcd: EtcdClientOptions,
  now: () => number = Date.now,
): MaintenanceObserver {
  const observer = createObserver(
    aws,
    rolloutFacts(spec),
    { ...etcd, probeTimeoutMs: durationMs(spec.gates.probeTimeout) },
    now,
  );
  return {
    async observe(signal) {
      const o = await observer.observe(signal);
      const busy =
        o.stack === undefined
          ? `stack ${spec.stackName} does not exist`
          : o.stack.status.endsWith("_IN_PROGRESS")
            ? `stack ${spec.stackName} is ${o.stack.status}`
            : undefined;
      return {
        ...(o.probe ? { probe: o.probe } : {}),
        desiredSize: o.desiredCapacity ?? spec.size,
        ...(busy ? { busy } : {}),
      };
    },
  };
}
