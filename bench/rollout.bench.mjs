// The rollout of a 5-member cluster compared with its physical limit (issue:
// total at most 1.3x, with zero failed writes), once per update order
// (launchFirst, then terminateFirst, on two clusters of one local cloud), with
// what a watcher outside quorate saw: the time the cluster tolerated fewer
// failures than at rest, and the leader changes. The limit is measured in the
// same run: for each new member, its own time from its instance's launch to
// being caught up and promoted (boot, etcd start, join as a learner, catch
// up). Everything else in the rollout (terminating the old member, lifecycle
// hooks, gates, signals, CloudFormation's batches) is quorate's and the
// cloud's overhead. Runs against dist/ (npm run build) on the local cloud with
// real etcd. Environment: BOOT_MS (stand-in for EC2 boot, default 5000).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { machine, ms } from "./machine.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dist = (path) => import(join(ROOT, "dist", path));
const [
  { startLocalCloud },
  { createAwsClientPool },
  { createAmiFeed },
  { parseManifests },
  { applyCluster },
  { startWriteProbe },
  { describeInstances },
  { describeGroups },
  { stackResourceId },
  { watchFaultTolerance },
] = await Promise.all([
  dist("localcloud/index.js"),
  dist("aws/clients.js"),
  dist("render/ami.js"),
  dist("manifest/parse.js"),
  dist("reconcile/apply.js"),
  dist("etcd/writeProbe.js"),
  dist("aws/instances.js"),
  dist("aws/groups.js"),
  dist("aws/stacks.js"),
  dist("etcd/faultToleranceWatch.js"),
]);

const BOOT_MS = Number(process.env.BOOT_MS ?? 5000);
const STABLE_FOR = process.env.STABLE_FOR ?? "PT0S";
const ORDERS = (process.env.ORDERS ?? "launchFirst,terminateFirst").split(",");

function spec(version, order) {
  const manifest = parse(readFileSync(join(ROOT, "clusters/prod.yaml"), "utf8"));
  manifest.metadata.name = `prod-${order}`.toLowerCase();
  manifest.spec.stackName = `quorate-bench-${order}`.toLowerCase();
  manifest.spec.image.version = version;
  manifest.spec.updatePolicy = { ...manifest.spec.updatePolicy, order };
  manifest.spec.gates = {
    stableFor: STABLE_FOR,
    abortAfter: "PT5M",
    deadMemberGrace: "PT1M",
    probeTimeout: "PT1S",
    maxAppliedIndexLag: 1000,
  };
  const parsed = parseManifests([{ file: "clusters/prod.yaml", text: stringify(manifest) }]);
  if (!parsed.clusters[0]) throw new Error(JSON.stringify(parsed.errors));
  return parsed.clusters[0];
}

const dataDir = mkdtempSync(join(tmpdir(), "quorate-bench-rollout-"));
const cloud = await startLocalCloud({
  port: 0,
  dataDir,
  network: `127.${200 + Math.floor(Math.random() * 40)}.${1 + Math.floor(Math.random() * 200)}.0`,
  timeScale: 0.1,
  bootDelayMs: BOOT_MS,
  operationDelayMs: 50,
  stopGraceMs: 2000,
});
try {
  const aws = createAwsClientPool({ endpoint: cloud.endpoint }, {});
  const amiFeed = createAmiFeed({
    source: `${cloud.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
  });
  const events = [];
  const deps = {
    aws,
    amiFeed,
    etcd: {},
    onEvent: (e) => events.push(e),
    tickMs: 100,
    heartbeatEveryMs: 2000,
  };
  async function rollout(order) {
    const before = spec("4081.2.0", order);
    const created = await applyCluster(deps, before, { revision: "bench-create" });
    if (created.result !== "applied") throw new Error(`create: ${created.message}`);

    // The writer follows the group: every in-service instance is an endpoint, as a
    // client behind a DNS name or a load balancer over the group would see it.
    const clients = aws("eu-west-1");
    const groupName = await stackResourceId(clients.cloudFormation, before.stackName, "EtcdGroup");
    const clientURLs = async () => {
      const group = (await describeGroups(clients.autoScaling, [groupName])).get(groupName);
      const inService = (group?.instances ?? []).filter((i) => i.lifecycleState === "InService");
      const live = await describeInstances(
        clients.ec2,
        inService.map((i) => i.instanceId),
      );
      return [...live.values()].flatMap((i) => (i.privateIp ? [`http://${i.privateIp}:2379`] : []));
    };
    // A cluster that has just formed refuses membership changes for etcd's 5 s health
    // interval; a cluster being upgraded has been up far longer.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    events.length = 0;
    const watch = watchFaultTolerance({ endpoints: clientURLs, resting: 2 });
    const writer = startWriteProbe({
      endpoints: clientURLs,
      prefix: "bench",
      maxWrites: 100_000,
      pauseMs: 10,
    });
    const started = Date.now();
    const outcome = await applyCluster(deps, spec("4152.2.0", order), {
      revision: "bench-upgrade",
    });
    const totalMs = Date.now() - started;
    const writes = await writer.stop();
    const tolerance = await watch.stop();
    if (outcome.result !== "applied") throw new Error(`upgrade: ${outcome.message}`);

    // Each new member's own time: from its instance's launch to its promotion.
    const promoted = events.filter((e) => e.type === "member-promoted");
    const launched = await describeInstances(
      aws("eu-west-1").ec2,
      promoted.map((e) => e.instanceId),
    );
    const own = promoted.map((e) => {
      const launch = launched.get(e.instanceId)?.launchTime?.getTime();
      if (!launch) throw new Error(`no launch time for ${e.instanceId}`);
      return { instanceId: e.instanceId, ms: Date.parse(e.at) - launch };
    });
    const limitMs = own.reduce((sum, m) => sum + m.ms, 0);
    const result = {
      order,
      members: own.length,
      perMemberOwnMs: own.map((m) => Math.round(m.ms)),
      physicalLimitMs: limitMs,
      rolloutTotalMs: totalMs,
      ratio: totalMs / limitMs,
      goalRatio: 1.3,
      faultTolerance: {
        resting: 2,
        msBelowResting: tolerance.msBelowResting,
        minTolerates: tolerance.minTolerates,
        samples: tolerance.samples,
        unanswered: tolerance.unanswered,
        leaderChanges: tolerance.leaderChanges,
      },
      writes: {
        attempted: writes.attempted,
        acknowledged: writes.acknowledged,
        failed: writes.failed,
        lost: writes.lost.length,
        worstStallMs: writes.worstStallMs,
        failures: writes.failures,
      },
      // The rollout as a person would have seen it, for the record.
      events: events.map(
        (e) => `${e.at.slice(11, 23)} ${e.instanceId ?? "-"} ${e.type}: ${e.message.slice(0, 100)}`,
      ),
    };
    console.error(
      `${order}: rollout of 5 members: ${ms(totalMs)} vs physical limit ${ms(limitMs)} (x${result.ratio.toFixed(2)}, goal <= 1.3); ` +
        `below resting tolerance ${ms(tolerance.msBelowResting)} (lowest ${tolerance.minTolerates} of 2), ${tolerance.leaderChanges} leader change(s); ` +
        `writes ${writes.acknowledged} acknowledged, ${writes.failed} failed, ${writes.lost.length} lost, worst stall ${ms(writes.worstStallMs)}`,
    );
    return result;
  }
  const results = [];
  for (const order of ORDERS) results.push(await rollout(order));
  console.log(
    JSON.stringify(
      {
        benchmark: "rollout of a 5-member cluster vs its physical limit, per update order",
        machine: machine(),
        bootDelayMs: BOOT_MS,
        stableFor: STABLE_FOR,
        results,
      },
      null,
      2,
    ),
  );
} finally {
  await cloud.close();
  rmSync(dataDir, { recursive: true, force: true });
}
