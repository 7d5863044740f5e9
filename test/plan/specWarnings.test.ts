import { describe, expect, it } from "vitest";
import {
  errorClusterPlan,
  planFromTemplates,
  serviceSpecUpdateBehaviour,
  withSpecWarnings,
} from "../../src/plan/index.js";
import { renderTemplate } from "../../src/render/template.js";
import { devSpec, tlsSpec } from "../render/specs.js";

const IMAGE = { imageId: "ami-0123456789abcdef0" };

function planOf(spec = devSpec()) {
  const template = renderTemplate(spec, IMAGE);
  return planFromTemplates({
    cluster: spec.name,
    stackName: spec.stackName,
    before: template,
    after: template,
    updateBehaviour: serviceSpecUpdateBehaviour(),
  });
}

describe("a plan of a cluster with TLS off", () => {
  it("warns once, naming who can reach the plaintext port and how to turn TLS on", () => {
    const spec = devSpec();
    const plan = withSpecWarnings(withSpecWarnings(planOf(spec), spec), spec);
    expect(plan.warnings).toEqual([
      {
        kind: "tls-off",
        severity: "caution",
        message:
          "TLS is off: clients (10.0.0.0/16) and peers talk to etcd in plaintext, with no authentication. Set spec.etcd.tls.enabled: true and spec.etcd.tls.parameterPrefix, with the certificates in SSM Parameter Store.",
      },
    ]);
  });

  it("does not warn with TLS on, nor on a plan that failed", () => {
    const spec = tlsSpec();
    expect(withSpecWarnings(planOf(spec), spec).warnings).toEqual([]);
    const failed = errorClusterPlan({ cluster: "dev", stackName: "quorate-dev", error: "x" });
    expect(withSpecWarnings(failed, devSpec()).warnings).toEqual([]);
  });
});

describe("a plan of a cluster in private subnets (network.egress: none)", () => {
  const privateSpec = () => {
    const spec = tlsSpec();
    spec.network.egress = "none";
    return spec;
  };
  const egressOf = (spec: ReturnType<typeof tlsSpec>) =>
    withSpecWarnings(planOf(spec), spec).warnings.filter((w) => w.kind === "egress-blocked");

  it("names the endpoints the members need and the manifest does not declare", () => {
    const spec = privateSpec();
    spec.network.vpcEndpoints = ["ssm"];
    const [warning] = egressOf(spec);
    expect(warning?.message).toContain(
      "the members call cloudformation and network.vpcEndpoints does not declare com.amazonaws.eu-west-1.cloudformation: without them each new member waits until the signal timeout",
    );
    expect(warning?.message).toContain("quay.io/coreos/etcd:v");
    expect(warning?.message).toContain("(docs/egress.md)");
  });

  it("needs ssm only with TLS, and says only the images remain when every endpoint is declared", () => {
    const spec = privateSpec();
    spec.network.vpcEndpoints = ["cloudformation", "ssm"];
    const [warning] = egressOf(spec);
    expect(warning?.message).not.toContain("does not declare");
    expect(warning?.message).toContain("which no VPC endpoint serves");
  });

  it("says nothing about egress when the subnets reach the internet", () => {
    expect(egressOf(tlsSpec())).toEqual([]);
  });
});

describe("a plan of a cluster that terminates first", () => {
  it.each([
    [3, "runs on 2 voters and tolerates 0 failures instead of 1 (one more failure loses quorum)"],
    [5, "runs on 4 voters and tolerates 1 failure instead of 2"],
  ])("warns of the cost for %i members", (size, words) => {
    const base = tlsSpec();
    const spec = {
      ...base,
      size,
      updatePolicy: { ...base.updatePolicy, order: "terminateFirst" as const },
    };
    const [warning] = withSpecWarnings(planOf(spec), spec).warnings;
    expect(warning).toMatchObject({ kind: "terminate-first", severity: "caution" });
    expect(warning?.message).toContain(words);
    expect(warning?.message).toContain("Use launchFirst (the default)");
  });

  it("does not warn when launching first", () => {
    const spec = tlsSpec();
    expect(spec.updatePolicy.order).toBe("launchFirst");
    expect(withSpecWarnings(planOf(spec), spec).warnings).toEqual([]);
  });
});
