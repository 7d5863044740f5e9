// The one matching of desired clusters with live stacks that the reconciler and
// `quorate status` share: which stack is whose, and what is done about each.
import { describe, expect, it } from "vitest";
import type { LiveStack } from "../../src/aws/stacks.js";
import type { ManifestError } from "../../src/manifest/manifestError.js";
import type { DesiredCluster } from "../../src/reconcile/decide.js";
import { planWork, type RegionStack, type WorkInput } from "../../src/reconcile/planWork.js";
import { STACK_TAG } from "../../src/render/contract.js";
import { devSpec } from "../render/specs.js";

const REGION = devSpec().region;

function live(name: string, status: string, tags: Record<string, string> = {}): RegionStack {
  const stack: LiveStack = {
    stackId: `arn:${name}`,
    stackName: name,
    status,
    tags: {
      [STACK_TAG.managedBy]: "quorate",
      [STACK_TAG.cluster]: name.replace(/^quorate-/, ""),
      [STACK_TAG.templateSha256]: "old",
      ...tags,
    },
    outputs: {},
    terminationProtection: false,
  };
  return { region: REGION, stack };
}

const valid = (templateSha256 = "new"): DesiredCluster => ({
  name: "dev",
  spec: devSpec(),
  templateSha256,
});
const error: ManifestError = {
  file: "clusters/dev.yaml",
  line: 7,
  column: 9,
  path: "spec.size",
  problem: "must be odd",
  hint: "use 3 or 5",
  rule: "size.odd",
  cluster: "dev",
};
const invalid: DesiredCluster = { name: "dev", errors: [error] };

function kinds(input: Partial<WorkInput>) {
  return planWork({
    desired: [],
    stacks: [],
    unreachable: new Map(),
    owner: "default",
    ...input,
  }).map((w) => `${w.cluster} ${w.action.kind}${w.region ? ` @${w.region}` : ""}`);
}

describe("planWork", () => {
  it.each<[string, Partial<WorkInput>, string[]]>([
    ["a new cluster: apply", { desired: [valid()] }, [`dev apply @${REGION}`]],
    [
      "in sync: nothing",
      { desired: [valid("old")], stacks: [live("quorate-dev", "UPDATE_COMPLETE")] },
      [`dev none @${REGION}`],
    ],
    [
      "its region's stacks could not be listed: unreachable, whatever the stack",
      { desired: [valid()], unreachable: new Map([[REGION, "throttled"]]) },
      [`dev unreachable @${REGION}`],
    ],
    [
      "the stack it names is another owner's: not-ours (and never an orphan of ours)",
      {
        desired: [valid()],
        stacks: [live("quorate-dev", "UPDATE_COMPLETE", { [STACK_TAG.owner]: "team-b" })],
      },
      [`dev not-ours @${REGION}`],
    ],
    [
      "an invalid manifest finds its stack by the cluster tag, and stalls",
      { desired: [invalid], stacks: [live("quorate-dev", "UPDATE_COMPLETE")] },
      [`dev stall @${REGION}`],
    ],
    [
      "an invalid manifest whose stack is mid-update: unsupervisable",
      { desired: [invalid], stacks: [live("quorate-dev", "UPDATE_IN_PROGRESS")] },
      [`dev unsupervisable @${REGION}`],
    ],
    [
      "a stack of ours without a manifest: orphan",
      { stacks: [live("quorate-old", "UPDATE_COMPLETE")] },
      [`old orphan @${REGION}`],
    ],
    [
      "an orphan mid-update: unsupervisable",
      { stacks: [live("quorate-old", "UPDATE_IN_PROGRESS")] },
      [`old unsupervisable @${REGION}`],
    ],
    [
      "an orphan being deleted: being-deleted",
      { stacks: [live("quorate-old", "DELETE_IN_PROGRESS")] },
      [`old being-deleted @${REGION}`],
    ],
    [
      "an orphan while a manifest file does not parse: held (stall), never deleted",
      {
        stacks: [live("quorate-old", "UPDATE_COMPLETE", { [STACK_TAG.prune]: "true" })],
        unread: { ...error, cluster: undefined, rule: "yaml.syntax" },
      },
      [`old stall @${REGION}`],
    ],
    [
      "another owner's stack without a manifest: not ours to report",
      { stacks: [live("quorate-theirs", "UPDATE_COMPLETE", { [STACK_TAG.owner]: "team-b" })] },
      [],
    ],
  ])("%s", (_what, input, expected) => {
    expect(kinds(input)).toEqual(expected);
  });

  it("remembers a refused template: stall until the template changes", () => {
    const memory = new Map([
      ["dev", { refused: { sha256: "new", reason: "ChangeSetFailed" as const, message: "no" } }],
    ]);
    const stacks = [live("quorate-dev", "UPDATE_COMPLETE")];
    const [same] = planWork({
      desired: [valid("new")],
      stacks,
      unreachable: new Map(),
      owner: "default",
      memory,
    });
    expect(same?.action).toMatchObject({ kind: "stall", reason: "ChangeSetFailed" });
    const [changed] = planWork({
      desired: [valid("newer")],
      stacks,
      unreachable: new Map(),
      owner: "default",
      memory,
    });
    expect(changed?.action.kind).toBe("apply");
  });
});
