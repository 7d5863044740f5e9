// Warnings that come from the manifest itself rather than from the change:
// settings an operator must know are weak, shown on every plan of the cluster.
import type { ClusterSpec, VpcEndpointService } from "../manifest/types.js";
import { AWS_CLI_IMAGE } from "../render/bootstrapScript.js";
import { etcdImage } from "../render/systemdUnits.js";
import type { ClusterPlan, Warning } from "./model.js";
import { faultTolerance } from "./warnings.js";

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
  const egress = egressWarning(spec);
  if (egress) warnings.push(egress);
  if (spec.updatePolicy.order === "terminateFirst") {
    warnings.push({
      kind: "terminate-first",
      severity: "caution",
      message: terminateFirstCost(spec.size),
    });
  }
  return warnings;
}

/** What spec.updatePolicy.order: terminateFirst costs a cluster of this size, and the way back. */
export function terminateFirstCost(size: number): string {
  const resting = faultTolerance(size);
  const during = faultTolerance(size - 1);
  return `updatePolicy.order is terminateFirst: while each member is replaced the cluster runs on ${size - 1} voters and tolerates ${during} failure${during === 1 ? "" : "s"} instead of ${resting}${during === 0 ? " (one more failure loses quorum)" : ""}. Use launchFirst (the default) unless the account has no capacity for one more instance.`;
}

/** The AWS services a member calls, by what the manifest turns on. docs/egress.md */
export function neededEndpoints(spec: ClusterSpec): VpcEndpointService[] {
  const needed: VpcEndpointService[] = ["cloudformation"];
  if (spec.etcd.tls.enabled) needed.push("ssm");
  if (spec.restore) needed.push("s3");
  return needed;
}

function egressWarning(spec: ClusterSpec): Warning | undefined {
  if (spec.network.egress !== "none") return undefined;
  const declared = new Set(spec.network.vpcEndpoints);
  const missing = neededEndpoints(spec).filter((service) => !declared.has(service));
  const parts: string[] = [];
  if (missing.length > 0) {
    const names = missing.map((s) => `com.amazonaws.${spec.region}.${s}`).join(", ");
    parts.push(
      `the members call ${missing.join(", ")} and network.vpcEndpoints does not declare ${names}: without them each new member waits until the signal timeout (${spec.updatePolicy.signalTimeout}) and the update rolls back. Create the endpoints and list them in network.vpcEndpoints`,
    );
  }
  parts.push(
    `the members pull ${etcdImage(spec)} and ${AWS_CLI_IMAGE} at first boot, which no VPC endpoint serves: give the subnets a NAT route to quay.io and public.ecr.aws, or the members cannot start`,
  );
  return {
    kind: "egress-blocked",
    severity: "caution",
    message: `network.egress is none: ${parts.join("; ")} (docs/egress.md).`,
  };
}

/** The plan with the spec's warnings added once, whatever was added before. */
export function withSpecWarnings(plan: ClusterPlan, spec: ClusterSpec): ClusterPlan {
  if (!PLANNED.has(plan.status)) return plan;
  const have = new Set(plan.warnings.map((w) => w.kind));
  const added = specWarnings(spec).filter((w) => !have.has(w.kind));
  return added.length === 0 ? plan : { ...plan, warnings: [...plan.warnings, ...added] };
}
