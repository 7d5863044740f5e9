// Which rollout decisions are a hold a person hears about (the supervisor's
// held and resumed events): not the stable clock every step waits on.
import { describe, expect, it } from "vitest";
import type { GateResult } from "../../src/etcd/gate.js";
import {
  emptyMemory,
  holdOf,
  type RolloutDecision,
  type RolloutPhase,
} from "../../src/reconcile/rollout/decision.js";

function decision(phase: RolloutPhase, failed?: string[]): RolloutDecision {
  const gate = failed && ({ passed: failed.length === 0, failed } as unknown as GateResult);
  return { actions: [], memory: emptyMemory(), phase, message: "m", ...(gate ? { gate } : {}) };
}

describe("holdOf", () => {
  it.each([
    [
      "a failing health check holds",
      decision("holding", ["members-healthy", "stable"]),
      ["members-healthy"],
    ],
    ["past abortAfter still holds", decision("needs-operator", ["no-alarms"]), ["no-alarms"]],
    ["no member answers (no gate) holds", decision("holding"), []],
    ["no member to hand leadership to (gate passed) holds", decision("holding", []), []],
    ["waiting on the stable clock alone is no hold", decision("holding", ["stable"]), undefined],
    ["replacing is no hold", decision("replacing", ["members-healthy"]), undefined],
    ["idle is no hold", decision("idle"), undefined],
  ])("%s", (_name, d, checks) => {
    expect(holdOf(d)?.failedChecks).toEqual(checks);
  });
});
