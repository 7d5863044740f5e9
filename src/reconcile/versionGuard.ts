// The etcd version rules as a guard on plans: a change whose version step
// etcd refuses is never executed, and its plan says why at file:line:col.

import type { ClusterSpec } from "../manifest/types.js";
import { formatVersionStepError } from "../manifest/versionChange.js";
import { errorClusterPlan } from "../plan/index.js";
import type { ClusterPlan } from "../plan/model.js";

/**
 * A plan whose etcd version step etcd's rules refuse is an error at the
 * manifest's spec.etcd.version: applying it would roll members that cannot join.
 */
export function refuseVersionStep(
  plan: ClusterPlan,
  spec: ClusterSpec,
  text: string | undefined,
): ClusterPlan {
  const step = plan.etcdVersion;
  if (!step || step.allowed) return plan;
  return {
    ...errorClusterPlan({
      cluster: spec.name,
      stackName: spec.stackName,
      error: formatVersionStepError(spec, step, text),
    }),
    etcdVersion: step,
  };
}
