// The status rebuilt from manifests and live stacks (pure), and its text form.
import { describe, expect, it } from "vitest";
import type { LiveStack } from "../../src/aws/stacks.js";
import { parseManifests } from "../../src/manifest/parse.js";
import { type Condition, conditionOf } from "../../src/reconcile/conditions.js";
import { desiredClusters, unreadManifest } from "../../src/reconcile/decide.js";
import type { ClusterStatus } from "../../src/reconcile/status.js";
import {
  formatStatusText,
  parseDaemonStatus,
  type RegionStack,
  rebuildStatuses,
  type StatusReport,
  statusVerdict,
} from "../../src/reconcile/statusReport.js";
import { STACK_TAG } from "../../src/render/contract.js";

const NOW = new Date("2025-03-01T12:00:00Z");
const REV = "0123456789abcdef0123456789abcdef01234567";
const OLD_REV = "fedcba9876543210fedcba9876543210fedcba98";
const SHA = "5".repeat(64);

function manifest(name: string, extra = ""): string {
  return `apiVersion: quorate.dev/v1alpha1
kind: EtcdCluster
metadata:
  name: ${name}
spec:
  region: eu-west-1
  size: 3
  instanceType: t3.medium
  image:
    os: flatcar
    channel: stable
    imageId: ami-0123456789abcdef0
  network:
    vpcId: vpc-0a1b2c3d4e5f60718
    subnetIds: [subnet-0a1b2c3d4e5f60001]
    clientCidrs: [10.0.0.0/16]
  etcd:
    version: 3.5.17
${extra}`;
}

/** GIVEN these manifests (valid ones render to SHA) and these live stacks. */
function rebuild(
  manifests: Record<string, string>,
  stacks: RegionStack[],
  unreachable: Record<string, string> = {},
  owner?: string,
): ClusterStatus[] {
  const loaded = parseManifests(Object.entries(manifests).map(([file, text]) => ({ file, text })));
  const rendered = new Map(loaded.clusters.map((c) => [c.name, { sha: SHA }]));
  const unread = unreadManifest(loaded.errors);
  return rebuildStatuses({
    revision: REV,
    desired: desiredClusters(loaded, rendered),
    ...(unread ? { unread } : {}),
    stacks,
    unreachable,
    now: NOW,
    ...(owner ? { owner } : {}),
  });
}

function stack(cluster: string, status: string, tags: Record<string, string> = {}): RegionStack {
  const live: LiveStack = {
    stackId: `arn:aws:cloudformation:eu-west-1:123456789012:stack/quorate-${cluster}/1`,
    stackName: `quorate-${cluster}`,
    status,
    tags: {
      [STACK_TAG.managedBy]: "quorate",
      [STACK_TAG.cluster]: cluster,
      [STACK_TAG.revision]: OLD_REV,
      [STACK_TAG.templateSha256]: SHA,
      [STACK_TAG.prune]: "false",
      ...tags,
    },
    outputs: {},
    terminationProtection: false,
  };
  return { region: "eu-west-1", stack: live };
}

function conditions(status: ClusterStatus | undefined) {
  const pick = (type: Condition["type"]) => {
    const c = conditionOf(status?.conditions ?? [], type);
    return c ? `${c.status}/${c.reason}` : "-";
  };
  return {
    Ready: pick("Ready"),
    Reconciling: pick("Reconciling"),
    Stalled: pick("Stalled"),
    HealthGatePassed: pick("HealthGatePassed"),
  };
}

describe("rebuildStatuses", () => {
  it.each([
    {
      given: "a stack whose template hash matches",
      stacks: [stack("dev", "UPDATE_COMPLETE")],
      ready: "True/ReconciliationSucceeded",
      stalled: "False/ReconciliationSucceeded",
      message: /^in sync: stack UPDATE_COMPLETE, template hash 555555555555 matches$/,
    },
    {
      given: "a stack with another template hash",
      stacks: [stack("dev", "UPDATE_COMPLETE", { [STACK_TAG.templateSha256]: "9".repeat(64) })],
      ready: "False/OutOfSync",
      stalled: "False/OutOfSync",
      message:
        /^out of sync: stack quorate-dev has template hash 999999999999, the manifest renders 555555555555/,
    },
    {
      given: "no stack",
      stacks: [],
      ready: "False/OutOfSync",
      stalled: "False/OutOfSync",
      message: /^no stack quorate-dev in eu-west-1 yet; the next reconcile/,
    },
    {
      given: "a stack in UPDATE_ROLLBACK_FAILED",
      stacks: [stack("dev", "UPDATE_ROLLBACK_FAILED")],
      ready: "False/StackNeedsOperator",
      stalled: "True/StackNeedsOperator",
      message: /^stack quorate-dev is UPDATE_ROLLBACK_FAILED; continue or fix the rollback by hand/,
    },
    {
      given: "a stack mid-update",
      stacks: [stack("dev", "UPDATE_IN_PROGRESS")],
      ready: "False/RolloutInProgress",
      stalled: "False/RolloutInProgress",
      message: /^stack is UPDATE_IN_PROGRESS: a rollout is under way$/,
    },
    {
      given: "a stack of the same name quorate did not create",
      stacks: [
        stack("dev", "CREATE_COMPLETE", { [STACK_TAG.managedBy]: "", [STACK_TAG.cluster]: "" }),
      ],
      ready: "False/StackNeedsOperator",
      stalled: "True/StackNeedsOperator",
      message: /exists but quorate did not create it/,
    },
    {
      given: "a stack of the same name that another quorate (owner team-b) applied",
      stacks: [stack("dev", "UPDATE_COMPLETE", { [STACK_TAG.owner]: "team-b" })],
      ready: "False/StackNeedsOperator",
      stalled: "True/StackNeedsOperator",
      message:
        /^stack quorate-dev belongs to the quorate with owner "team-b" \(tag quorate.dev:owner\), not to this one \(owner "default"\): two repositories declare the same stack\. Rename spec.stackName in one of them, or run this quorate with --owner team-b/,
    },
  ])("GIVEN the manifest of dev and $given THEN Ready is $ready", (row) => {
    const [dev, ...rest] = rebuild({ "clusters/dev.yaml": manifest("dev") }, row.stacks);
    expect(rest).toEqual([]);
    expect(dev?.cluster).toBe("dev");
    expect(conditions(dev)).toMatchObject({ Ready: row.ready, Stalled: row.stalled });
    expect(conditionOf(dev?.conditions ?? [], "Ready")?.message).toMatch(row.message);
    // Nothing was probed, nothing is retried, nothing was reconciled.
    expect(conditions(dev).HealthGatePassed).toBe("Unknown/HealthGateUnknown");
    expect(dev?.failures).toBe(0);
    expect(dev?.nextAttemptAt).toBeUndefined();
    expect(dev?.lastReconciledAt).toBeUndefined();
    expect(dev).toMatchObject({
      stackName: "quorate-dev",
      region: "eu-west-1",
      source: "clusters/dev.yaml:1",
      observedRevision: REV,
    });
  });

  it("GIVEN a live stack THEN the applied revision, template hash and stack status come from it", () => {
    const [dev] = rebuild({ "dev.yaml": manifest("dev") }, [stack("dev", "UPDATE_COMPLETE")]);
    expect(dev).toMatchObject({
      stackStatus: "UPDATE_COMPLETE",
      lastAppliedRevision: OLD_REV,
      templateSha256: SHA,
    });
    expect(dev?.lastAttemptedRevision).toBeUndefined();
  });

  it("GIVEN a managed stack whose manifest is gone THEN it is Orphaned (or Pruning with prune: true)", () => {
    const statuses = rebuild({ "dev.yaml": manifest("dev") }, [
      stack("dev", "UPDATE_COMPLETE"),
      stack("gone", "CREATE_COMPLETE"),
      stack("pruned", "CREATE_COMPLETE", { [STACK_TAG.prune]: "true" }),
      stack("other", "CREATE_COMPLETE", { [STACK_TAG.managedBy]: "", [STACK_TAG.cluster]: "" }),
    ]);
    expect(statuses.map((s) => s.cluster)).toEqual(["dev", "gone", "pruned"]);
    const gone = statuses[1];
    expect(conditions(gone)).toMatchObject({ Ready: "False/Orphaned", Stalled: "False/Orphaned" });
    expect(conditionOf(gone?.conditions ?? [], "Ready")?.message).toMatch(
      /the manifest of stack quorate-gone was deleted; prune is off, so the stack stays/,
    );
    expect(gone).toMatchObject({ region: "eu-west-1", stackName: "quorate-gone" });
    expect(conditions(statuses[2])).toMatchObject({ Ready: "False/Pruning" });
    expect(conditionOf(statuses[2]?.conditions ?? [], "Ready")?.message).toMatch(
      /the next reconcile deletes stack quorate-pruned/,
    );
  });

  it("GIVEN a manifest file that does not parse THEN no stack is reported orphaned or pruned: it may be declared there", () => {
    const statuses = rebuild(
      { "dev.yaml": manifest("dev"), "broken.yaml": "metadata: [unclosed\n" },
      [
        stack("dev", "UPDATE_COMPLETE"),
        stack("gone", "CREATE_COMPLETE", { [STACK_TAG.prune]: "true" }),
      ],
    );
    const gone = statuses.find((s) => s.cluster === "gone");
    expect(conditions(gone)).toMatchObject({
      Ready: "False/InvalidManifest",
      Stalled: "True/InvalidManifest",
    });
    expect(conditionOf(gone?.conditions ?? [], "Ready")?.message).toMatch(
      /^no manifest names this cluster, but broken\.yaml:\d+:\d+: YAML syntax error: .*that file may still declare stack quorate-gone/,
    );
  });

  it("GIVEN stacks of two owners THEN each owner's status has only its own stacks and none of the other's orphans", () => {
    const stacks = [
      stack("dev", "UPDATE_COMPLETE"), // applied before owners existed: the default owner's
      stack("ours", "CREATE_COMPLETE", { [STACK_TAG.owner]: "default", [STACK_TAG.prune]: "true" }),
      stack("theirs", "CREATE_COMPLETE", {
        [STACK_TAG.owner]: "team-b",
        [STACK_TAG.prune]: "true",
      }),
    ];
    const mine = rebuild({ "dev.yaml": manifest("dev") }, stacks);
    expect(mine.map((s) => `${s.cluster} ${conditions(s).Ready}`)).toEqual([
      "dev True/ReconciliationSucceeded",
      "ours False/Pruning",
    ]);
    const theirs = rebuild({ "dev.yaml": manifest("dev") }, stacks, {}, "team-b");
    expect(theirs.map((s) => `${s.cluster} ${conditions(s).Ready}`)).toEqual([
      "dev False/StackNeedsOperator",
      "theirs False/Pruning",
    ]);
    expect(conditionOf(theirs[0]?.conditions ?? [], "Ready")?.message).toMatch(
      /belongs to the quorate with owner "default".*not to this one \(owner "team-b"\)/,
    );
  });

  it("GIVEN an invalid manifest THEN its cluster is Stalled with the file, line and problem, and its stack is not orphaned", () => {
    const statuses = rebuild(
      {
        "clusters/dev.yaml": manifest("dev"),
        "clusters/bad.yaml": manifest("bad").replace("size: 3", "size: 4"),
      },
      [stack("dev", "UPDATE_COMPLETE"), stack("bad", "UPDATE_COMPLETE")],
    );
    expect(statuses.map((s) => s.cluster)).toEqual(["bad", "dev"]);
    const bad = statuses[0];
    expect(conditions(bad)).toMatchObject({
      Ready: "False/InvalidManifest",
      Stalled: "True/InvalidManifest",
    });
    expect(conditionOf(bad?.conditions ?? [], "Ready")?.message).toMatch(
      /^clusters\/bad\.yaml:\d+:\d+: spec\.size: .*fix the manifest in git$/,
    );
    // The stack is still shown: what is applied there stays visible.
    expect(bad).toMatchObject({ stackStatus: "UPDATE_COMPLETE", lastAppliedRevision: OLD_REV });
  });

  it("GIVEN a suspended manifest THEN it is Suspended", () => {
    const [dev] = rebuild({ "dev.yaml": manifest("dev", "  suspend: true\n") }, [
      stack("dev", "UPDATE_COMPLETE", { [STACK_TAG.templateSha256]: "9".repeat(64) }),
    ]);
    expect(conditions(dev)).toMatchObject({ Ready: "False/Suspended", Stalled: "False/Suspended" });
  });

  it("GIVEN a region whose stacks cannot be listed THEN its clusters are not Ready for a TransientError and Reconciling is Unknown", () => {
    const [dev] = rebuild({ "dev.yaml": manifest("dev") }, [], {
      "eu-west-1": "listing stacks: AccessDenied",
    });
    expect(conditions(dev)).toMatchObject({
      Ready: "False/TransientError",
      Reconciling: "Unknown/TransientError",
      Stalled: "False/TransientError",
    });
    expect(conditionOf(dev?.conditions ?? [], "Ready")?.message).toBe(
      "stacks in eu-west-1 could not be listed: listing stacks: AccessDenied",
    );
  });

  it("never mutates its input", () => {
    const stacks = [stack("dev", "UPDATE_COMPLETE"), stack("gone", "CREATE_COMPLETE")];
    const copy = structuredClone(stacks);
    rebuild({ "dev.yaml": manifest("dev") }, stacks);
    expect(stacks).toEqual(copy);
  });
});

describe("formatStatusText", () => {
  const statuses = rebuild(
    {
      "clusters/dev.yaml": manifest("dev"),
      "clusters/prod.yaml": manifest("prod"),
      "clusters/stage.yaml": manifest("stage"),
    },
    [
      stack("dev", "UPDATE_COMPLETE"),
      stack("prod", "UPDATE_ROLLBACK_FAILED", { [STACK_TAG.revision]: REV }),
      stack("stage", "UPDATE_COMPLETE", { [STACK_TAG.templateSha256]: "9".repeat(64) }),
    ],
  );

  it("GIVEN a rebuilt status THEN it says so, shows the table and each unready cluster's message", () => {
    const report: StatusReport = {
      from: {
        kind: "live",
        path: "clusters",
        regions: ["eu-west-1"],
        daemon: "http://127.0.0.1:9464",
      },
      revision: REV,
      clusters: statuses,
    };
    expect(
      formatStatusText(report),
    ).toBe(`rebuilt from live stacks (no daemon answered at http://127.0.0.1:9464): manifests in clusters at 0123456789ab, regions eu-west-1; health gates not probed

CLUSTER  READY  REASON                   STACK STATUS            APPLIED REVISION  GATE
dev      True   ReconciliationSucceeded  UPDATE_COMPLETE         fedcba987654      unknown
prod     False  StackNeedsOperator       UPDATE_ROLLBACK_FAILED  0123456789ab      unknown
  stack quorate-prod is UPDATE_ROLLBACK_FAILED; continue or fix the rollback by hand (quorate never runs ContinueUpdateRollback on its own)
stage    False  OutOfSync                UPDATE_COMPLETE         fedcba987654      unknown
  out of sync: stack quorate-stage has template hash 999999999999, the manifest renders 555555555555; the next reconcile (quorate run) or quorate apply updates it

3 cluster(s): 1 ready, 2 not ready
`);
    expect(statusVerdict(report)).toBe("not-ready");
  });

  it("GIVEN a daemon's status THEN the first line names the daemon, the source, its owner and the last pass", () => {
    const report: StatusReport = {
      from: { kind: "daemon", url: "http://127.0.0.1:9464" },
      source: { repo: "https://github.com/acme/infra", owner: "platform", ok: true, revision: REV },
      lastPass: {
        source: { repo: "https://github.com/acme/infra", ok: true, revision: REV },
        startedAt: "2025-03-01T12:01:03.000Z",
        durationMs: 1234,
        clusters: [],
      },
      busy: ["prod"],
      clusters: statuses.slice(0, 1),
    };
    expect(
      formatStatusText(report),
    ).toBe(`from daemon at http://127.0.0.1:9464; source https://github.com/acme/infra at 0123456789ab (owner platform); last pass 12:01:03Z (1.2s)
rollouts running: prod

CLUSTER  READY  REASON                   STACK STATUS     APPLIED REVISION  GATE
dev      True   ReconciliationSucceeded  UPDATE_COMPLETE  fedcba987654      unknown

1 cluster(s): 1 ready, 0 not ready
`);
    expect(statusVerdict(report)).toBe("ready");
  });

  it("GIVEN a failed source and no pass yet THEN the first line says what failed and what is kept", () => {
    const text = formatStatusText({
      from: { kind: "daemon", url: "http://127.0.0.1:9464" },
      source: {
        repo: "acme/infra",
        ok: false,
        reason: "fetch-failed",
        message: "could not resolve host",
        revision: REV,
      },
      lastPass: null,
      busy: [],
      clusters: [],
    });
    expect(text).toBe(
      "from daemon at http://127.0.0.1:9464; source acme/infra FAILED (fetch-failed: could not resolve host); reconciling the last good revision 0123456789ab; first pass in progress\nno clusters\n",
    );
  });

  it("GIVEN unreachable regions THEN they are listed and the verdict is unreadable", () => {
    const report: StatusReport = {
      from: { kind: "live", path: "clusters", regions: ["eu-west-1"] },
      clusters: [],
      unreachable: { "eu-west-1": "AccessDenied" },
    };
    expect(formatStatusText(report)).toContain("cannot list stacks in eu-west-1: AccessDenied\n");
    expect(statusVerdict(report)).toBe("unreadable");
  });
});

describe("parseDaemonStatus", () => {
  it("accepts the /status body and refuses something else with a reason", () => {
    const body = { source: { repo: "r", ok: true }, lastPass: null, clusters: [], busy: [] };
    expect(parseDaemonStatus(body)).toEqual(body);
    expect(() => parseDaemonStatus({ hello: "world" })).toThrow(/not a quorate \/status body/);
    expect(() => parseDaemonStatus({ ...body, clusters: [{ name: "x" }] })).toThrow(
      /no name or conditions/,
    );
  });
});
