import { describe, expect, it } from "vitest";
import {
  actionsOutcome,
  heartbeat,
  openAction,
  startActions,
} from "../../src/localcloud/autoscaling/hooks.js";
import type { GroupInstanceRecord, LifecycleHookRecord } from "../../src/localcloud/state/model.js";

const hook = (
  name: string,
  defaultResult: "CONTINUE" | "ABANDON",
  heartbeatTimeoutSeconds = 60,
): LifecycleHookRecord => ({
  name,
  transition: "autoscaling:EC2_INSTANCE_LAUNCHING",
  heartbeatTimeoutSeconds,
  defaultResult,
  source: "group",
});

describe("lifecycle actions", () => {
  const hooks = [hook("a", "CONTINUE"), hook("b", "ABANDON", 120)];

  it("time out on HeartbeatTimeout, scaled by the time scale", () => {
    const actions = startActions(hooks, 1000, 0.5);
    expect(actions.map((a) => a.deadline)).toEqual([1000 + 30_000, 1000 + 60_000]);
    expect(actions.map((a) => a.globalDeadline)).toEqual([1000 + 3_000_000, 1000 + 6_000_000]);
  });

  it.each([
    {
      name: "waiting for both",
      results: [undefined, undefined],
      now: 0,
      expected: { kind: "waiting", until: 60_000 },
    },
    {
      name: "one completed, one waiting",
      results: ["CONTINUE", undefined],
      now: 0,
      expected: { kind: "waiting", until: 120_000 },
    },
    {
      name: "both CONTINUE",
      results: ["CONTINUE", "CONTINUE"],
      now: 0,
      expected: { kind: "done", result: "CONTINUE" },
    },
    {
      name: "any ABANDON wins",
      results: ["CONTINUE", "ABANDON"],
      now: 0,
      expected: { kind: "done", result: "ABANDON" },
    },
    {
      name: "timed out: DefaultResults",
      results: [undefined, undefined],
      now: 200_000,
      expected: { kind: "done", result: "ABANDON" },
    },
    {
      name: "one completed, the other timed out CONTINUE",
      results: [undefined, "CONTINUE"],
      now: 70_000,
      expected: { kind: "done", result: "CONTINUE" },
    },
  ] as const)("$name", ({ results, now, expected }) => {
    const actions = startActions(hooks, 0, 1).map((a, i) =>
      results[i] ? { ...a, result: results[i] } : a,
    );
    expect(actionsOutcome(actions, hooks, now)).toEqual(expected);
  });

  it("a heartbeat restarts the timeout, within the global limit", () => {
    const [action] = startActions([hook("a", "ABANDON", 60)], 0, 1);
    heartbeat(action!, hooks[0], 50_000, 1);
    expect(action!.deadline).toBe(110_000);
    heartbeat(action!, hooks[0], 5_990_000, 1);
    expect(action!.deadline).toBe(6_000_000);
  });

  it("an open action is found by hook and instance or token, only while waiting", () => {
    const actions = startActions([hook("a", "ABANDON")], 0, 1);
    const instance: GroupInstanceRecord = {
      instanceId: "i-1",
      lifecycleState: "Pending:Wait",
      healthStatus: "Healthy",
      launchTemplateVersion: 1,
      availabilityZone: "eu-west-1a",
      protectedFromScaleIn: false,
      actions,
    };
    expect(openAction(instance, "a", 10)).toBe(actions[0]);
    expect(openAction(instance, "a", 10, actions[0]!.token)).toBe(actions[0]);
    expect(openAction(instance, "a", 10, "other-token")).toBeUndefined();
    expect(openAction(instance, "b", 10)).toBeUndefined();
    expect(openAction(instance, "a", 60_000)).toBeUndefined();
    expect(openAction({ ...instance, lifecycleState: "InService" }, "a", 10)).toBeUndefined();
  });
});
