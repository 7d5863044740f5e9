// The story of the same image upgrade without quorate, on the local cloud with
// real etcd: the rendered stack, its rolling update and its lifecycle hooks,
// but the hooks are answered by the naive operator an Auto Scaling Group
// amounts to (test/helpers/naiveOperator.ts): every hook completed at once,
// new instances added as voting members, departing members never removed.
// docs/naive-vs-quorate.md puts this run beside quorate's (rolloutDev.test.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  executeChangeSet,
  type StackEvent,
  stackEventsSince,
  stackResourceId,
} from "../../src/aws/stacks.js";
import { createEtcdClient } from "../../src/etcd/client.js";
import { startWriteProbe } from "../../src/etcd/writeProbe.js";
import { localAmiId } from "../../src/localcloud/index.js";
import { applyCluster } from "../../src/reconcile/apply.js";
import { DEFAULT_OWNER } from "../../src/reconcile/ownership.js";
import { previewCluster } from "../../src/reconcile/preview.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { LOGICAL_ID } from "../../src/render/contract.js";
import { renderStack } from "../../src/render/template.js";
import { startNaiveOperator, watchQuorum } from "../helpers/naiveOperator.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

// A short signal timeout (PT3M is 9 s at the harness's time scale), in the
// created stack too, because a rollback waits as long as the old template says.
// Terminate first, as a rolling update with MinInstancesInService below the
// size does: the recipe this story tells without quorate.
const shortSignals = (m: Record<string, any>) => {
  m.spec.updatePolicy.signalTimeout = "PT3M";
  m.spec.updatePolicy.order = "terminateFirst";
};
const OLD_AMI = localAmiId("stable", "4081.2.0", "eu-west-1");
const NEW_AMI = localAmiId("stable", "4152.2.0", "eu-west-1");

describe("the dev upgrade without quorate", () => {
  it("never gets a replacement in, fails its update and its rollback, and leaves a stale member one failure from losing quorum", async () => {
    const created = await applyCluster(h.deps(), h.spec("dev", shortSignals), {
      revision: "rev-create",
    });
    expect(created.result, created.message).toBe("applied");
    const spec = h.spec("dev", (m) => {
      shortSignals(m);
      m.spec.image.version = "4152.2.0";
    });
    const aws = h.aws(spec.region);
    const before = await h.instances(spec);
    const groupName = await stackResourceId(aws.cloudFormation, spec.stackName, LOGICAL_ID.group);
    const seen = (await stackEventsSince(aws.cloudFormation, spec.stackName, undefined)).at(-1);

    // `aws cloudformation deploy`: a change set, executed at once; nothing gates or supervises it.
    const feed = createAmiFeed({
      source: `${h.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
    });
    const rendered = renderStack(spec, { imageId: await feed.resolve(spec) });
    const preview = await previewCluster(aws, spec, rendered, {
      revision: "rev-naive",
      owner: DEFAULT_OWNER,
      keep: true,
    });
    const naive = startNaiveOperator({
      aws,
      groupName: groupName ?? "",
      token: spec.name,
      clientPort: spec.etcd.clientPort,
      peerPort: spec.etcd.peerPort,
    });
    const quorum = watchQuorum(() => h.clientURLs(spec));
    const writer = startWriteProbe({
      endpoints: () => h.clientURLs(spec),
      prefix: "naive-upgrade",
      maxWrites: 5000,
    });
    await executeChangeSet(aws.cloudFormation, preview.changeSet?.id ?? "", spec.stackName);
    const status = await settled(spec, 90_000);
    const writes = await writer.stop();
    await naive.stop();
    const samples = await quorum.stop();
    const events = await stackEventsSince(aws.cloudFormation, spec.stackName, seen?.id);
    if (process.env.QUORATE_TEST_EVENTS) show(naive.lines, events);

    // The update fails: etcd's strict reconfiguration check refuses the new voter while the
    // departed member, never removed, still counts; so no replacement ever signals.
    expect(naive.lines.some((l) => /member add failed: .*unhealthy cluster/.test(l.message))).toBe(
      true,
    );
    expect(naive.lines.some((l) => /member add .* \(a voting member\)/.test(l.message))).toBe(
      false,
    );
    expect(events.map((e) => e.reason ?? "")).toContain(
      "Failed to receive 1 resource signal(s) for the current batch.  Each resource signal timeout is counted as a FAILURE.",
    );
    // The rollback launches an old-image instance, which cannot join either: a person must step in.
    expect(status).toBe("UPDATE_ROLLBACK_FAILED");

    // What is left: the first old instance is gone but still a member; the group counts three
    // instances in service, one of which is no member at all; no instance runs the new image.
    const after = await h.instances(spec);
    const members = await h.members(spec);
    const first = before.find((b) => !after.some((a) => a.instanceId === b.instanceId));
    expect(first).toBeDefined();
    expect(members.map((m) => m.name)).toContain(first?.instanceId);
    expect(members).toHaveLength(3);
    expect(after.filter((i) => i.state === "InService")).toHaveLength(3);
    const strangers = after.filter((i) => !members.some((m) => m.name === i.instanceId));
    expect(strangers).toHaveLength(1);
    expect(after.some((i) => i.imageId === NEW_AMI)).toBe(false);
    expect(strangers[0]?.imageId).toBe(OLD_AMI);

    // Quorum held through the rollout (2 of 3 voters answer), so no write failed, but the
    // stale member leaves no room for a failure: the cluster of three tolerates none.
    expect(writes.failed, writes.failures.join("\n")).toBe(0);
    expect(writes.lost).toEqual([]);
    const last = samples.at(-1);
    expect(last).toMatchObject({ voters: 3, healthyVoters: 2, quorum: 2 });

    // One more member failing is a quorum lost: the last one standing cannot take a write.
    const [victim, survivor] = after.filter((i) => members.some((m) => m.name === i.instanceId));
    await h.cloud.admin.instance(victim?.instanceId ?? "", "kill");
    const client = createEtcdClient(`http://${survivor?.ip}:${spec.etcd.clientPort}`, {
      timeoutMs: 3000,
    });
    try {
      await expect(client.put("naive/after-one-more-failure", "x")).rejects.toThrow();
      expect((await client.health()).healthy).toBe(false);
    } finally {
      client.close();
    }
  });
});

async function settled(spec: ReturnType<Harness["spec"]>, limitMs: number): Promise<string> {
  return waitFor(
    `${spec.stackName} to settle`,
    async () => {
      const status = (await h.stackStatus(spec)) ?? "absent";
      return !status.endsWith("_IN_PROGRESS") && status;
    },
    { timeoutMs: limitMs, intervalMs: 250 },
  );
}

/** QUORATE_TEST_EVENTS=1: the run as docs/naive-vs-quorate.md shows it. */
function show(lines: { at: string; instanceId?: string; message: string }[], events: StackEvent[]) {
  const all = [
    ...lines.map((l) => ({ at: l.at, text: `naive  ${l.instanceId ?? ""}  ${l.message}` })),
    ...events
      .filter((e) => e.reason || e.logicalId === "EtcdGroup" || e.resourceType.endsWith("Stack"))
      .map((e) => ({
        at: e.at.toISOString(),
        text: `cfn    ${e.logicalId} ${e.status}${e.reason ? `: ${e.reason}` : ""}`,
      })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  for (const line of all) process.stderr.write(`${line.at.slice(11, 19)} ${line.text}\n`);
}
