// The rolling update planner, driven against a simulated group: terminations
// finish at once, launched instances come into service at once, and signals
// arrive as the scenario says. Only the planner's decisions are under test.
import { describe, expect, it } from "vitest";
import {
  type GroupView,
  initialRollingState,
  planRollingUpdate,
  type RollingInstance,
  type RollingPolicy,
  type RollingState,
  recordLaunched,
} from "../../src/localcloud/autoscaling/rollingUpdate.js";

const policy = (overrides: Partial<RollingPolicy> = {}): RollingPolicy => ({
  maxBatchSize: 1,
  minInstancesInService: 2,
  minSuccessfulInstancesPercent: 100,
  waitOnResourceSignals: true,
  pauseMs: 1000,
  pauseText: "PT15M",
  suspendProcesses: [],
  ...overrides,
});

interface Scenario {
  size: number;
  maxSize?: number;
  policy: RollingPolicy;
  /** The signal each new instance sends (by launch order); none = it never signals. */
  signal?: (n: number) => "SUCCESS" | "FAILURE" | "none";
}

interface Outcome {
  state: RollingState;
  /** Events and actions in order, with instance ids as old-N / new-N. */
  log: string[];
  capacity: { minSize: number; desired: number };
}

function simulate(s: Scenario): Outcome {
  let now = 0;
  let launched = 0;
  const instances: RollingInstance[] = Array.from({ length: s.size }, (_, i) => ({
    instanceId: `old-${i + 1}`,
    lifecycleState: "InService",
    upToDate: false,
    launchTime: i,
  }));
  const signals: GroupView["signals"] = [];
  const capacity = { minSize: s.size, desired: s.size };
  const log: string[] = [];
  let state = initialRollingState({ minSize: s.size, desiredCapacity: s.size });
  for (let step = 0; step < 200; step++) {
    const view: GroupView = {
      now,
      minSize: capacity.minSize,
      maxSize: s.maxSize ?? s.size,
      desiredCapacity: capacity.desired,
      instances: structuredClone(instances),
      signals: [...signals],
    };
    const result = planRollingUpdate(s.policy, state, view);
    state = result.state;
    log.push(...result.events);
    for (const action of result.actions) {
      if (action.kind === "set-capacity") {
        capacity.minSize = action.minSize;
        capacity.desired = action.desiredCapacity;
        log.push(`[set capacity ${action.minSize}/${action.desiredCapacity}]`);
      } else if (action.kind === "terminate") {
        for (const id of action.instanceIds)
          instances.splice(
            instances.findIndex((i) => i.instanceId === id),
            1,
          );
        log.push(`[terminate ${action.instanceIds.join(",")}]`);
      } else {
        const ids: string[] = [];
        for (let i = 0; i < action.count; i++) {
          const id = `new-${++launched}`;
          ids.push(id);
          instances.push({
            instanceId: id,
            lifecycleState: "InService",
            upToDate: true,
            launchTime: 100 + launched,
          });
          const signal = s.signal?.(launched) ?? "SUCCESS";
          if (signal !== "none") signals.push({ uniqueId: id, status: signal });
        }
        state = recordLaunched(state, ids);
        log.push(`[launch ${ids.join(",")}]`);
      }
    }
    if (state.phase === "done" || state.phase === "failed") break;
    if (result.actions.length === 0 && result.events.length === 0) {
      now = result.wakeAt ?? now + 100; // nothing to do until the next deadline
    }
  }
  return { state, log, capacity };
}

describe("planRollingUpdate", () => {
  it("MinInstancesInService = N-1: terminate first, then launch, one at a time", () => {
    const out = simulate({ size: 3, policy: policy() });
    expect(out.state.phase).toBe("done");
    expect(out.log).toEqual([
      "Rolling update initiated. Terminating 3 obsolete instance(s) in batches of 1, while keeping at least 2 instance(s) in service. Waiting on resource signals with a timeout of PT15M when new instances are added to the autoscaling group.",
      "Terminating instance(s) [old-1]; replacing with 1 new instance(s).",
      "[terminate old-1]",
      "Successfully terminated instance(s) [old-1] (Progress 33%).",
      "New instance(s) added to autoscaling group - Waiting on 1 resource signal(s) with a timeout of PT15M.",
      "[launch new-1]",
      "Terminating instance(s) [old-2]; replacing with 1 new instance(s).",
      "[terminate old-2]",
      "Successfully terminated instance(s) [old-2] (Progress 67%).",
      "New instance(s) added to autoscaling group - Waiting on 1 resource signal(s) with a timeout of PT15M.",
      "[launch new-2]",
      "Terminating instance(s) [old-3]; replacing with 1 new instance(s).",
      "[terminate old-3]",
      "Successfully terminated instance(s) [old-3] (Progress 100%).",
      "New instance(s) added to autoscaling group - Waiting on 1 resource signal(s) with a timeout of PT15M.",
      "[launch new-3]",
    ]);
    expect(out.capacity).toEqual({ minSize: 3, desired: 3 });
  });

  it("MinInstancesInService = N: capacity to N+1, launch first, back to N at the end", () => {
    const out = simulate({ size: 3, maxSize: 4, policy: policy({ minInstancesInService: 3 }) });
    expect(out.state.phase).toBe("done");
    expect(out.log.filter((l) => l.startsWith("[")).join(" ")).toBe(
      [
        "[set capacity 4/4]",
        "[launch new-1]",
        "[terminate old-1]",
        "[launch new-2]",
        "[terminate old-2]",
        "[launch new-3]",
        "[terminate old-3]",
        "[set capacity 3/3]",
      ].join(" "),
    );
    expect(out.log[0]).toBe(
      "Temporarily setting autoscaling group MinSize and DesiredCapacity to 4.",
    );
    expect(out.log).toContain("Terminating instance(s) [old-3]; replacing with 0 new instance(s).");
    expect(out.capacity).toEqual({ minSize: 3, desired: 3 });
  });

  it("MaxBatchSize 2 over 5 instances, keeping 3 in service", () => {
    const out = simulate({
      size: 5,
      policy: policy({ maxBatchSize: 2, minInstancesInService: 3 }),
    });
    expect(out.state.phase).toBe("done");
    expect(out.log.filter((l) => l.startsWith("["))).toEqual([
      "[terminate old-1,old-2]",
      "[launch new-1,new-2]",
      "[terminate old-3,old-4]",
      "[launch new-3,new-4]",
      "[terminate old-5]",
      "[launch new-5]",
    ]);
  });

  it("a signal that never comes fails the batch at PauseTime, in AWS's words", () => {
    const out = simulate({
      size: 3,
      policy: policy(),
      signal: (n) => (n === 2 ? "none" : "SUCCESS"),
    });
    expect(out.state.phase).toBe("failed");
    expect(out.log.at(-1)).toBe(
      "Failed to receive 1 resource signal(s) for the current batch.  Each resource signal timeout is counted as a FAILURE.",
    );
    expect(out.state.failure).toBe(
      "Received 1 SUCCESS signal(s) out of 2.  Unable to satisfy 100% MinSuccessfulInstancesPercent requirement",
    );
  });

  it("a FAILURE signal fails the batch at once", () => {
    const out = simulate({ size: 3, policy: policy(), signal: () => "FAILURE" });
    expect(out.state.phase).toBe("failed");
    expect(out.log.filter((l) => l.startsWith("[launch"))).toEqual(["[launch new-1]"]);
    expect(out.state.failure).toContain("Received 0 SUCCESS signal(s) out of 1.");
  });

  it("MinSuccessfulInstancesPercent lets some signals fail", () => {
    const out = simulate({
      size: 4,
      policy: policy({ minInstancesInService: 3, minSuccessfulInstancesPercent: 50 }),
      signal: (n) => (n === 2 ? "none" : "SUCCESS"),
    });
    expect(out.state.phase).toBe("done");
  });

  it("without signals, pauses PauseTime after each batch", () => {
    const out = simulate({
      size: 2,
      policy: policy({ minInstancesInService: 1, waitOnResourceSignals: false }),
    });
    expect(out.state.phase).toBe("done");
    expect(out.log[0]).toBe(
      "Rolling update initiated. Terminating 2 obsolete instance(s) in batches of 1, while keeping at least 1 instance(s) in service.",
    );
    expect(out.log).toContain("New instance(s) added to autoscaling group.");
  });

  it("MinInstancesInService must be below MaxSize", () => {
    const out = simulate({ size: 3, policy: policy({ minInstancesInService: 3 }) });
    expect(out.state.phase).toBe("failed");
    expect(out.state.failure).toBe(
      "MinInstancesInService (3) must be less than the Auto Scaling group's MaxSize (3)",
    );
  });

  it("nothing obsolete: done without events", () => {
    const result = planRollingUpdate(
      policy(),
      initialRollingState({ minSize: 3, desiredCapacity: 3 }),
      {
        now: 0,
        minSize: 3,
        maxSize: 3,
        desiredCapacity: 3,
        signals: [],
        instances: [1, 2, 3].map((n) => ({
          instanceId: `i-${n}`,
          lifecycleState: "InService",
          upToDate: true,
          launchTime: n,
        })),
      },
    );
    expect(result).toMatchObject({ state: { phase: "done" }, actions: [], events: [] });
  });

  it("does not mutate the state it is given", () => {
    const state = initialRollingState({ minSize: 3, desiredCapacity: 3 });
    const copy = structuredClone(state);
    planRollingUpdate(policy(), state, {
      now: 0,
      minSize: 3,
      maxSize: 3,
      desiredCapacity: 3,
      signals: [],
      instances: [1, 2, 3].map((n) => ({
        instanceId: `i-${n}`,
        lifecycleState: "InService",
        upToDate: false,
        launchTime: n,
      })),
    });
    expect(state).toEqual(copy);
  });
});
