// Warnings that come from the manifest itself rather than from the change:
// settings an operator must know are weak, shown on every plan of the cluster.
import type { ClusterSpec } from "../manifest/types.js";
import type { ClusterPlan, Warning } from "./model.js";

/** Plans that speak about the desired state (not errors, skips or removed manifests). */
const PLANNED = new Set<ClusterPlan["status"]>(["create", "update", "no-change"]);

export function specWarnings(spec: ClusterSpec): Warning[] {
  const warnings: Warning[] = [];
  if (!spec.etcd.tls.enabled) {
    const open = spec.network.clientCidrs.join(", ") || "no CIDR (members only)";
    warnings.push({
      kind: "tls-off",
      severity: "caution",
      message: `TLS is off: clients (${open}) and peers talk to etcd in plaintext, with no authentication. Set spec.etcd.tls.enabled: true and spec.etcd.tls.parameterPrefix, with the certificates in SSM Parameter Store.`,
    });
  }
  return warnings;
}

/** The plan with the spec's warnings added once, whatever was added before. */
export function withSpecWarnings(plan: ClusterPlan, spec: ClusterSpec): ClusterPlan {
  if (!PLANNED.has(plan.status)) return plan;
  const have = new Set(plan.warnings.map((w) => w.kind));
  const added = specWarnings(spec).filter((w) => !have.has(w.kind));
  return added.length === 0 ? plan : { ...plan, warnings: [...plan.warnings, ...added] };
}
