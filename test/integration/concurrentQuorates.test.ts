// Two quorates of the same owner acting on one cluster at once, as a CI job's
// `reconcile --once` and the box's `quorate run` do after the same merge.
// Neither knows of the other. Each plans, passes the gate and executes; AWS
// keeps only the first change set executed and deletes the other, so the
// second quorate must take that rollout over as a supervisor, not fail and not
// start a second one. Supervision actions are idempotent and decided from fresh
// observations, so two supervisors behave like one that retries: each old
// member is removed once, and no write fails or is lost.
//
// Then the narrower races: the other quorate creates and executes its change
// set between this one's reading the stack and creating its own, or while
// CloudFormation still computes this one's (executing deletes it). And last, one
// quorate alone whose ExecuteChangeSet response is lost after CloudFormation
// took the call: it must know the rollout is its own.
import { DescribeStackEventsCommand } from "@aws-sdk/client-cloudformation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsClientPool } from "../../src/aws/clients.js";
import { createChangeSet, executeChangeSet, waitForChangeSet } from "../../src/aws/stacks.js";
import { startWriteProbe } from "../../src/etcd/writeProbe.js";
import { localAmiId } from "../../src/localcloud/index.js";
import { type ApplyOutcome, applyCluster } from "../../src/reconcile/apply.js";
import { DEFAULT_OWNER } from "../../src/reconcile/ownership.js";
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";
import { renderStack, stackTags } from "../../src/render/template.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

/**
 * Operations the stack went through: its own *_IN_PROGRESS events that start
 * one (the local cloud's counters count ExecuteChangeSet calls, refused ones too).
 */
async function stackOperations(stackName: string): Promise<string[]> {
  const out = await h
    .aws("eu-west-1")
    .cloudFormation.send(new DescribeStackEventsCommand({ StackName: stackName }));
  return (out.StackEvents ?? [])
    .filter(
      (e) =>
        e.LogicalResourceId === stackName &&
        (e.ResourceStatus === "CREATE_IN_PROGRESS" || e.ResourceStatus === "UPDATE_IN_PROGRESS"),
    )
    .map((e) => e.ResourceStatus ?? "")
    .reverse();
}

/**
 * Both applies run to their end even when one fails, so that a failure stays
 * in its own test instead of a supervisor still running into the next one.
 */
async function bothApplies(applies: Promise<ApplyOutcome>[]): Promise<ApplyOutcome[]> {
  const settled = await Promise.allSettled(applies);
  return settled.map((s) => {
    if (s.status === "rejected") throw s.reason;
    return s.value;
  });
}

/** Both outcomes applied, and exactly one of the two executed a change set. */
function expectOneExecuted(outcomes: ApplyOutcome[]): void {
  for (const o of outcomes) expect(o.result, o.message).toBe("applied");
  const said = outcomes.map((o) => `${o.result} executed=${o.executed}: ${o.message}`);
  expect(
    outcomes.filter((o) => o.executed),
    said.join("\n"),
  ).toHaveLength(1);
}

/** Instances an event of this type really acted on (not "was already ..."). */
const actedOn = (events: RolloutEvent[], type: RolloutEvent["type"], verb: RegExp) =>
  events.filter((e) => e.type === type && verb.test(e.message)).map((e) => e.instanceId);

describe("two quorates applying the same change to dev at once", () => {
  it("create it once: one change set executed, one healthy 3-member cluster", async () => {
    const spec = h.spec("dev");
    const outcomes = await bothApplies([
      applyCluster(h.deps(), spec, { revision: "rev-create" }),
      applyCluster(h.deps(), spec, { revision: "rev-create" }),
    ]);
    expectOneExecuted(outcomes);
    expect(await stackOperations(spec.stackName)).toEqual(["CREATE_IN_PROGRESS"]);
    expect(await h.stackStatus(spec)).toBe("CREATE_COMPLETE");
    const members = await h.members(spec);
    const instances = await h.instances(spec);
    expect(members.filter((m) => !m.isLearner)).toHaveLength(3);
    expect(members.map((m) => m.name).sort()).toEqual(instances.map((i) => i.instanceId).sort());
  });

  it("upgrade it once: each old member removed once, no failed or lost write", async () => {
    const spec = h.spec("dev", (m) => {
      m.spec.image.version = "4152.2.0";
    });
    const before = (await h.instances(spec)).map((i) => i.instanceId).sort();
    const writer = startWriteProbe({
      endpoints: () => h.clientURLs(spec),
      prefix: "dev-concurrent",
      maxWrites: 5000,
    });
    h.events.length = 0;
    const outcomes = await bothApplies([
      applyCluster(h.deps(), spec, { revision: "rev-upgrade" }),
      applyCluster(h.deps(), spec, { revision: "rev-upgrade" }),
    ]);
    const writes = await writer.stop();

    expectOneExecuted(outcomes);
    expect(await stackOperations(spec.stackName)).toEqual([
      "CREATE_IN_PROGRESS",
      "UPDATE_IN_PROGRESS",
    ]);
    expect(await h.stackStatus(spec)).toBe("UPDATE_COMPLETE");
    expect(writes.failed, writes.failures.join("\n")).toBe(0);
    expect(writes.lost).toEqual([]);
    expect(writes.acknowledged).toBeGreaterThan(20);

    const after = await h.instances(spec);
    const newAmi = localAmiId("stable", "4152.2.0", "eu-west-1");
    expect(after.every((i) => i.imageId === newAmi)).toBe(true);
    const members = await h.members(spec);
    expect(members.filter((m) => !m.isLearner)).toHaveLength(3);
    expect(members.map((m) => m.name).sort()).toEqual(after.map((i) => i.instanceId).sort());
    // The second supervisor found each step already done: one real removal per old
    // member, one real add and promotion per new one.
    expect(actedOn(h.events, "member-removed", /^removed /).sort()).toEqual(before);
    const replacements = after.map((i) => i.instanceId).sort();
    expect(actedOn(h.events, "learner-added", /^joined as learner/).sort()).toEqual(replacements);
    expect(actedOn(h.events, "member-promoted", /^promoted /).sort()).toEqual(replacements);
  });
});

describe("a quorate that reads the stack just before another one executes", () => {
  it("plans again from the stack as it now is, and supervises the other's creation", async () => {
    const spec = h.spec("dev", (m) => {
      m.metadata.name = "race";
      m.spec.stackName = "quorate-race";
    });
    const deps = h.deps();
    const rendered = renderStack(spec, { imageId: await deps.amiFeed.resolve(spec) });
    // FAULT INJECTION (the interleaving cannot be forced otherwise): right before
    // this quorate's first CreateChangeSet reaches the local cloud, "the other
    // quorate" creates and executes its own change set for the same stack.
    const aws = createAwsClientPool({ endpoint: h.endpoint }, {});
    let raced = false;
    aws("eu-west-1").cloudFormation.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "CreateChangeSetCommand" && !raced) {
          raced = true;
          const cfn = h.aws("eu-west-1").cloudFormation;
          const other = await createChangeSet(cfn, {
            stackName: spec.stackName,
            changeSetName: "the-other-quorate",
            templateBody: rendered.templateBody,
            tags: stackTags(rendered, { revision: "rev-race", owner: DEFAULT_OWNER }),
            type: "CREATE",
          });
          await waitForChangeSet(cfn, other, { stackName: spec.stackName, pollMs: 50 });
          await executeChangeSet(cfn, other, spec.stackName);
        }
        return next(args);
      },
      { step: "initialize", name: "raceTheOtherQuorate" },
    );
    h.events.length = 0;
    const outcome = await applyCluster({ ...deps, aws }, spec, { revision: "rev-race" });
    expect(raced).toBe(true);
    expect(outcome.result, outcome.message).toBe("applied");
    expect(outcome.executed).toBe(false);
    expect(await stackOperations(spec.stackName)).toEqual(["CREATE_IN_PROGRESS"]);
    expect(await h.stackStatus(spec)).toBe("CREATE_COMPLETE");
    expect((await h.members(spec)).filter((m) => !m.isLearner)).toHaveLength(3);
  });
});

describe("a quorate whose change set is deleted while CloudFormation computes it", () => {
  it("plans again from the stack as it now is, and supervises the other's creation", async () => {
    const spec = h.spec("dev", (m) => {
      m.metadata.name = "computing";
      m.spec.stackName = "quorate-computing";
    });
    const deps = h.deps();
    const rendered = renderStack(spec, { imageId: await deps.amiFeed.resolve(spec) });
    // FAULT INJECTION (the interleaving cannot be forced otherwise): right before
    // this quorate's first DescribeChangeSet, "the other quorate" creates and
    // executes its own change set for the same stack. Executing deletes the
    // stack's other change sets, this quorate's among them.
    const aws = createAwsClientPool({ endpoint: h.endpoint }, {});
    let raced = false;
    aws("eu-west-1").cloudFormation.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "DescribeChangeSetCommand" && !raced) {
          raced = true;
          const cfn = h.aws("eu-west-1").cloudFormation;
          const other = await createChangeSet(cfn, {
            stackName: spec.stackName,
            changeSetName: "the-other-quorate",
            templateBody: rendered.templateBody,
            tags: stackTags(rendered, { revision: "rev-computing", owner: DEFAULT_OWNER }),
            type: "CREATE",
          });
          await waitForChangeSet(cfn, other, { stackName: spec.stackName, pollMs: 50 });
          await executeChangeSet(cfn, other, spec.stackName);
        }
        return next(args);
      },
      { step: "initialize", name: "executeTheOtherChangeSet" },
    );
    const outcome = await applyCluster({ ...deps, aws }, spec, { revision: "rev-computing" });
    expect(raced).toBe(true);
    expect(outcome.result, outcome.message).toBe("applied");
    expect(outcome.executed).toBe(false);
    expect(await stackOperations(spec.stackName)).toEqual(["CREATE_IN_PROGRESS"]);
    expect(await h.stackStatus(spec)).toBe("CREATE_COMPLETE");
    expect((await h.members(spec)).filter((m) => !m.isLearner)).toHaveLength(3);
  });
});

describe("an ExecuteChangeSet whose response is lost", () => {
  it("is recognised as quorate's own execution, sent with a retry token", async () => {
    // FAULT INJECTION (a lost response cannot be produced on loopback on demand):
    // an SDK middleware lets the first ExecuteChangeSet reach the local cloud,
    // then throws as if the connection had dropped before the answer came.
    const aws = createAwsClientPool({ endpoint: h.endpoint }, {});
    const tokens: (string | undefined)[] = [];
    aws("eu-west-1").cloudFormation.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "ExecuteChangeSetCommand") return next(args);
        tokens.push((args.input as { ClientRequestToken?: string }).ClientRequestToken);
        await next(args);
        throw Object.assign(new Error("socket hang up (injected after the call)"), {
          name: "ECONNRESET",
        });
      },
      { step: "initialize", name: "loseExecuteResponse" },
    );
    const spec = h.spec("dev", (m) => {
      m.spec.image.version = "4081.2.0";
    });
    h.events.length = 0;
    const outcome = await applyCluster(h.deps({ aws }), spec, { revision: "rev-lost" });
    expect(outcome.result, outcome.message).toBe("applied");
    expect(outcome.executed).toBe(true);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toMatch(/^quorate-[0-9a-f-]{36}$/);
    expect(h.events.some((e) => /another quorate/.test(e.message))).toBe(false);
    expect(await stackOperations(spec.stackName)).toEqual([
      "CREATE_IN_PROGRESS",
      "UPDATE_IN_PROGRESS",
      "UPDATE_IN_PROGRESS",
    ]);
  });
});

describe("a quorate whose gate is still settling when another one executes", () => {
  it("sees the other's rollout, not a failed gate, and supervises it", async () => {
    const spec = h.spec("dev", (m) => {
      m.metadata.name = "race";
      m.spec.stackName = "quorate-race";
      m.spec.image.version = "4152.2.0";
    });
    const deps = h.deps();
    const rendered = renderStack(spec, { imageId: await deps.amiFeed.resolve(spec) });
    const before = (await h.instances(spec)).length;
    // FAULT INJECTION (the interleaving cannot be forced otherwise): confirm runs
    // after this quorate's change set is ready and before its gate. There "the
    // other quorate" executes the same change and its launch-first rollout
    // starts a new instance, so this quorate's gate sees one more instance
    // than members, exactly what it saw in the race between two real quorates.
    let raced = false;
    const confirm = async () => {
      raced = true;
      const cfn = h.aws("eu-west-1").cloudFormation;
      const other = await createChangeSet(cfn, {
        stackName: spec.stackName,
        changeSetName: "the-other-quorate-update",
        templateBody: rendered.templateBody,
        tags: stackTags(rendered, { revision: "rev-settling", owner: DEFAULT_OWNER }),
        type: "UPDATE",
      });
      await waitForChangeSet(cfn, other, { stackName: spec.stackName, pollMs: 50 });
      await executeChangeSet(cfn, other, spec.stackName);
      await waitFor("the other's first new instance", async () => {
        expect((await h.instances(spec)).length).toBeGreaterThan(before);
      });
      return true;
    };
    h.events.length = 0;
    const outcome = await applyCluster(deps, spec, { revision: "rev-settling", confirm });
    expect(raced).toBe(true);
    expect(outcome.result, outcome.message).toBe("applied");
    expect(outcome.executed).toBe(false);
    expect(
      h.events.some((e) => /another quorate executed its change set first/.test(e.message)),
    ).toBe(true);
    expect(await stackOperations(spec.stackName)).toEqual([
      "CREATE_IN_PROGRESS",
      "UPDATE_IN_PROGRESS",
    ]);
    expect(await h.stackStatus(spec)).toBe("UPDATE_COMPLETE");
    const members = await h.members(spec);
    expect(members.filter((m) => !m.isLearner)).toHaveLength(3);
    expect(members.map((m) => m.name).sort()).toEqual(
      (await h.instances(spec)).map((i) => i.instanceId).sort(),
    );
  });
});
