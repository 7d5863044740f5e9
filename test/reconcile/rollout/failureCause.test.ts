// The first failure of a stack's newest operation, as a rolled-back rollout's
// message names it: the failed resource, not the rollback's echoes of it.
import { describe, expect, it } from "vitest";
import type { StackEvent } from "../../../src/aws/stacks.js";
import { firstFailure, rollbackFailure } from "../../../src/reconcile/rollout/failureCause.js";

let n = 0;
const event = (logicalId: string, status: string, reason?: string): StackEvent => ({
  id: `e${n++}`,
  at: new Date(1_700_000_000_000 + n * 1000),
  logicalId,
  resourceType: logicalId === "quorate-dev" ? "AWS::CloudFormation::Stack" : "AWS::IAM::Role",
  status,
  ...(reason ? { reason } : {}),
});

describe("firstFailure", () => {
  it("names the first resource that failed in the newest operation", () => {
    const events = [
      event("quorate-dev", "CREATE_IN_PROGRESS", "User Initiated"),
      event("EtcdRole", "CREATE_FAILED", "an old failure"),
      event("quorate-dev", "UPDATE_IN_PROGRESS", "User Initiated"),
      event("EtcdSecurityGroup", "UPDATE_FAILED", "Resource update cancelled"),
      event("EtcdRole", "UPDATE_FAILED", 'Resource handler returned message: "denied"'),
      event(
        "quorate-dev",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to update: [EtcdRole].",
      ),
      event("EtcdGroup", "UPDATE_FAILED", "a later one"),
    ];
    expect(firstFailure("quorate-dev", events)).toBe(
      'EtcdRole UPDATE_FAILED: Resource handler returned message: "denied"',
    );
  });

  it("is undefined when no resource failed", () => {
    expect(
      firstFailure("quorate-dev", [
        event("quorate-dev", "UPDATE_IN_PROGRESS", "User Initiated"),
        event("quorate-dev", "UPDATE_ROLLBACK_IN_PROGRESS", "Stack update cancelled"),
      ]),
    ).toBeUndefined();
  });
});

describe("rollbackFailure", () => {
  it("names the resource that stopped the newest rollback, not the failure that started it", () => {
    const events = [
      event("quorate-dev", "UPDATE_IN_PROGRESS", "User Initiated"),
      event("EtcdGroup", "UPDATE_FAILED", "Failed to receive 1 resource signal(s)"),
      event(
        "quorate-dev",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to update: [EtcdGroup].",
      ),
      event("EtcdLaunchTemplate", "UPDATE_FAILED", 'Resource handler returned message: "denied"'),
      event(
        "quorate-dev",
        "UPDATE_ROLLBACK_FAILED",
        "The following resource(s) failed to update: [EtcdLaunchTemplate].",
      ),
    ];
    expect(rollbackFailure("quorate-dev", events)).toBe(
      'EtcdLaunchTemplate UPDATE_FAILED: Resource handler returned message: "denied"',
    );
  });

  it("is undefined without a rollback, or when nothing failed in it", () => {
    expect(
      rollbackFailure("quorate-dev", [
        event("quorate-dev", "UPDATE_IN_PROGRESS", "User Initiated"),
        event("EtcdGroup", "UPDATE_FAILED", "x"),
      ]),
    ).toBeUndefined();
    expect(
      rollbackFailure("quorate-dev", [
        event("quorate-dev", "UPDATE_ROLLBACK_IN_PROGRESS", "y"),
        event("quorate-dev", "UPDATE_ROLLBACK_COMPLETE"),
      ]),
    ).toBeUndefined();
  });
});
