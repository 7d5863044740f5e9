import type { Change } from "@aws-sdk/client-cloudformation";
import { describe, expect, it } from "vitest";
import { type ChangeSetChange, resourceChangesFromChangeSet } from "../../src/plan/changeSet.js";
import { planFromChangeSet } from "../../src/plan/clusterPlan.js";
import { KNOWN_AFTER_APPLY, type Replacement } from "../../src/plan/model.js";
import { changeSetInputs } from "./scenarios.js";
import { etcdTemplate, facts } from "./stack.js";

function modifyWith(
  replacement: string,
  details: { recreation: string; evaluation: string; after?: string }[],
): ChangeSetChange[] {
  return [
    {
      Type: "Resource",
      ResourceChange: {
        Action: "Modify",
        LogicalResourceId: "EtcdSecurityGroup",
        ResourceType: "AWS::EC2::SecurityGroup",
        Replacement: replacement,
        Details: details.map((d, i) => ({
          Target: {
            Attribute: "Properties",
            Name: `Prop${i}`,
            Path: `/Properties/Prop${i}`,
            RequiresRecreation: d.recreation,
            BeforeValue: "old",
            AfterValue: d.after ?? "new",
            AttributeChangeType: "Modify",
          },
          Evaluation: d.evaluation,
          ChangeSource: "DirectModification",
        })),
      },
    },
  ];
}

describe("resourceChangesFromChangeSet", () => {
  // GIVEN a change set's Replacement and its details WHEN mapped THEN the replacement follows
  // AWS's derivation, and True with a value known only after apply reads "may be replaced".
  it.each<[string, string, string, string | undefined, Replacement]>([
    ["True", "Always", "Static", undefined, "always"],
    ["Conditional", "Always", "Dynamic", undefined, "conditional"],
    ["Conditional", "Conditionally", "Static", undefined, "conditional"],
    ["False", "Never", "Static", undefined, "never"],
    ["True", "Always", "Static", KNOWN_AFTER_APPLY, "unknown-after-apply"],
  ])(
    "Replacement %s with %s/%s (after %s) is %s",
    (replacement, recreation, evaluation, after, expected) => {
      const [change] = resourceChangesFromChangeSet(
        modifyWith(replacement, [{ recreation, evaluation, ...(after ? { after } : {}) }]),
      );
      expect(change?.replacement).toBe(expected);
      expect(change?.causes).toEqual(expected === "never" ? [] : ["/Properties/Prop0"]);
    },
  );

  it("True stays certain when one cause is known even if another is known only after apply", () => {
    const [change] = resourceChangesFromChangeSet(
      modifyWith("True", [
        { recreation: "Always", evaluation: "Static", after: KNOWN_AFTER_APPLY },
        { recreation: "Always", evaluation: "Static" },
      ]),
    );
    expect(change?.replacement).toBe("always");
    expect(change?.properties.map((p) => p.replacement)).toEqual(["unknown-after-apply", "always"]);
  });

  it("merges the Dynamic and Static details CloudFormation lists for one path", () => {
    const [images] = changeSetInputs();
    const group = resourceChangesFromChangeSet(images!.changes).find(
      (c) => c.logicalId === "EtcdGroup",
    );
    expect(group?.properties).toEqual([
      {
        attribute: "Properties",
        path: "/Properties/LaunchTemplate/Version",
        action: "modify",
        before: "1",
        afterKnown: false,
        replacement: "never",
        causedBy: "EtcdLaunchTemplate.LatestVersionNumber",
      },
    ]);
  });

  it("ignores SyncWithActual and non-resource entries, maps Dynamic to a conditional modify", () => {
    const changes = resourceChangesFromChangeSet([
      { Type: "Resource", ResourceChange: { Action: "SyncWithActual", LogicalResourceId: "A" } },
      { Type: "HookInvocation" },
      {
        Type: "Resource",
        ResourceChange: { Action: "Dynamic", LogicalResourceId: "B", ResourceType: "AWS::X::Y" },
      },
    ]);
    expect(changes.map((c) => [c.logicalId, c.action, c.replacement])).toEqual([
      ["B", "modify", "conditional"],
    ]);
  });

  it("accepts the AWS SDK's own Change type", () => {
    const sdk: Change[] = [
      { Type: "Resource", ResourceChange: { Action: "Add", LogicalResourceId: "X" } },
    ];
    expect(resourceChangesFromChangeSet(sdk)).toHaveLength(1);
  });
});

describe("planFromChangeSet", () => {
  it("reads the size before from the group's DesiredCapacity when the live template is not given", () => {
    const grow = changeSetInputs()[2]!;
    const { live: _live, ...withoutLive } = grow;
    const plan = planFromChangeSet(withoutLive);
    expect(plan.impact).toMatchObject({ sizeBefore: 3, sizeAfter: 5, instancesReplaced: false });
  });

  it("is no-change for an existing stack whose change set had no changes", () => {
    const template = etcdTemplate(facts("same"));
    const plan = planFromChangeSet({
      cluster: "same",
      stackName: "quorate-same",
      stackExists: true,
      changes: [],
      desired: { template },
      live: { template },
    });
    expect(plan).toMatchObject({ status: "no-change", changes: [], warnings: [] });
    expect(plan.impact?.instancesReplaced).toBe(false);
  });

  it("never mutates its input", () => {
    for (const input of changeSetInputs()) {
      const copy = structuredClone(input);
      const plan = planFromChangeSet(input);
      expect(input).toEqual(copy);
      // Nor does changing the plan reach back into the input.
      for (const change of plan.changes) for (const p of change.properties) p.before = "changed";
      expect(input).toEqual(copy);
    }
  });
});
