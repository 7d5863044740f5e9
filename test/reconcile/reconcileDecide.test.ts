// The reconciler's decision per cluster: a pure function of the live stack and
// the manifest (level-triggered: the same inputs, the same action).
import { describe, expect, it } from "vitest";
import type { ManifestError } from "../../src/manifest/manifestError.js";
import {
  type DesiredCluster,
  decide,
  holdRemoval,
  type ObservedStack,
  unreadManifest,
} from "../../src/reconcile/decide.js";
import { STACK_TAG } from "../../src/render/contract.js";
import { devSpec } from "../render/specs.js";

const want = (overrides: Partial<DesiredCluster> = {}): DesiredCluster => ({
  name: "dev",
  spec: devSpec(),
  templateSha256: "new",
  ...overrides,
});
const stack = (
  status: string,
  tags: Record<string, string> = {},
  protection = false,
): ObservedStack => ({
  stackName: "quorate-dev",
  status,
  tags: { [STACK_TAG.managedBy]: "quorate", [STACK_TAG.templateSha256]: "old", ...tags },
  terminationProtection: protection,
});

describe("decide", () => {
  it.each<[string, ObservedStack | undefined, DesiredCluster | undefined, string]>([
    ["no stack yet: apply", undefined, want(), "apply"],
    ["an unexecuted CREATE preview: apply", stack("REVIEW_IN_PROGRESS"), want(), "apply"],
    [
      "hash matches: nothing",
      stack("UPDATE_COMPLETE", { [STACK_TAG.templateSha256]: "new" }),
      want(),
      "none",
    ],
    ["hash differs: apply", stack("UPDATE_COMPLETE"), want(), "apply"],
    ["mid-update: supervise, never apply", stack("UPDATE_IN_PROGRESS"), want(), "supervise"],
    ["mid-rollback: supervise", stack("UPDATE_ROLLBACK_IN_PROGRESS"), want(), "supervise"],
    [
      "mid-update with a broken manifest: still supervised",
      stack("UPDATE_IN_PROGRESS"),
      want({ spec: undefined, errors: [] }),
      "supervise",
    ],
    [
      "broken manifest: stall",
      stack("UPDATE_COMPLETE"),
      want({ spec: undefined, errors: [] }),
      "stall",
    ],
    [
      "suspended: nothing applied",
      stack("UPDATE_COMPLETE"),
      want({ spec: { ...devSpec(), suspend: true } }),
      "suspended",
    ],
    [
      "unrenderable (unknown AMI): stall",
      stack("UPDATE_COMPLETE"),
      want({ templateSha256: undefined, renderError: "no AMI" }),
      "stall",
    ],
    ["failed creation: stall until deleted", stack("ROLLBACK_COMPLETE"), want(), "stall"],
    [
      "UPDATE_ROLLBACK_FAILED: stall, never continue on its own",
      stack("UPDATE_ROLLBACK_FAILED"),
      want(),
      "stall",
    ],
    [
      "manifest deleted without prune: orphan",
      stack("UPDATE_COMPLETE", { [STACK_TAG.prune]: "false" }),
      undefined,
      "orphan",
    ],
    [
      "prune but termination protection on: orphan",
      stack("UPDATE_COMPLETE", { [STACK_TAG.prune]: "true" }, true),
      undefined,
      "orphan",
    ],
    [
      "prune and protection off: delete",
      stack("UPDATE_COMPLETE", { [STACK_TAG.prune]: "true" }),
      undefined,
      "delete",
    ],
    ["being deleted: nothing", stack("DELETE_IN_PROGRESS"), undefined, "none"],
  ])("%s", (_name, observed, desired, kind) => {
    expect(decide(observed, desired).kind).toBe(kind);
  });

  it("leaves a preview's empty stack without a manifest, even with prune: a plan may be using it", () => {
    const action = decide(stack("REVIEW_IN_PROGRESS", { [STACK_TAG.prune]: "true" }), undefined);
    expect(action).toEqual({
      kind: "orphan",
      message:
        "stack quorate-dev is an empty stack under review, which a preview's change set left behind (a plan-only principal may not delete stacks), and no manifest names it. It holds no resources: delete it by hand, or commit a manifest for it and quorate creates the cluster in it",
    });
  });

  it("does not retry an update that rolled back until the manifest changes", () => {
    const rolledBack = stack("UPDATE_ROLLBACK_COMPLETE");
    expect(decide(rolledBack, want(), { rolledBackSha256: "new" })).toMatchObject({
      kind: "stall",
      reason: "RolledBack",
    });
    expect(
      decide(rolledBack, want({ templateSha256: "newer" }), { rolledBackSha256: "new" }).kind,
    ).toBe("apply");
  });

  it("names the manifest error's file, line and field", () => {
    const action = decide(
      stack("UPDATE_COMPLETE"),
      want({
        spec: undefined,
        errors: [
          {
            file: "clusters/dev.yaml",
            line: 8,
            column: 9,
            path: "spec.size",
            problem: "must be odd",
            hint: "h",
            rule: "schema.enum",
          },
        ],
      }),
    );
    expect(action).toEqual({
      kind: "stall",
      reason: "InvalidManifest",
      message: "clusters/dev.yaml:8:9: spec.size: must be odd; fix the manifest in git",
    });
  });
});

describe("holdRemoval: while a manifest cannot be read, nothing is deleted or orphaned", () => {
  const syntax: ManifestError = {
    file: "clusters/other.yaml",
    line: 3,
    column: 7,
    path: "",
    problem: "YAML syntax error: unexpected end of flow sequence",
    hint: "fix the YAML",
    rule: "yaml.syntax",
  };
  const named: ManifestError = { ...syntax, cluster: "other", rule: "schema.enum" };

  it("finds the first error that names no cluster, and only such one", () => {
    expect(unreadManifest([named])).toBeUndefined();
    expect(unreadManifest([named, syntax])).toBe(syntax);
  });

  it.each([
    ["delete", stack("UPDATE_COMPLETE", { [STACK_TAG.prune]: "true" })],
    ["orphan", stack("UPDATE_COMPLETE", { [STACK_TAG.prune]: "false" })],
  ])("GIVEN a %s decision and an unreadable file THEN it stalls, naming the file", (_k, s) => {
    const action = decide(s, undefined);
    expect(holdRemoval(action, "quorate-dev", undefined)).toBe(action);
    expect(holdRemoval(action, "quorate-dev", syntax)).toEqual({
      kind: "stall",
      reason: "InvalidManifest",
      message:
        "no manifest names this cluster, but clusters/other.yaml:3:7: YAML syntax error: unexpected end of flow sequence; that file may still declare stack quorate-dev, so it is neither deleted nor orphaned until the file reads. Fix it in git",
    });
  });

  it("leaves every other decision alone", () => {
    const supervise = decide(stack("UPDATE_IN_PROGRESS"), undefined);
    expect(holdRemoval(supervise, "quorate-dev", syntax)).toBe(supervise);
  });
});
