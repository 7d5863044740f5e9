// AWS calls and wall time of a no-op reconcile pass over 100 and 1,000 in-sync
// clusters (issue 6 goal: at most 2 calls per unchanged cluster, no change
// set). Calls are counted by the local cloud's own per-action counters.
// Baseline in the same run: the bare DescribeStacks listing of every stack,
// which any pass has to make. Runs against dist/ (npm run build).
//
// SCALE-TEST MODE: the local cloud runs instances without etcd (withoutEtcd),
// so the stacks are created the way quorate leaves them (a CREATE change set
// with the rendered template and quorate's tags, executed) and the launching
// hooks are completed here in place of quorate's bootstrap. The passes still
// probe every member; with no etcd the probes are refused at once, so the pass
// time holds no etcd round trips (on AWS, one per member, in parallel).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { machine, median, ms } from "./machine.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const COUNTS = (process.env.ECONOMY_COUNTS ?? "100,1000").split(",").map(Number);
const PASSES = 5;
const REGION = "eu-west-1";

const { startLocalCloud } = await import(join(ROOT, "dist/localcloud/index.js"));
const { createAwsClientPool } = await import(join(ROOT, "dist/aws/clients.js"));
const { completeLifecycleAction, describeGroups } = await import(join(ROOT, "dist/aws/groups.js"));
const { describeInstances } = await import(join(ROOT, "dist/aws/instances.js"));
// Commands from quorate's own SDK door, so that they go through its clients as its own do.
const { DescribeAutoScalingGroupsCommand } = await import(join(ROOT, "dist/aws/sdk.js"));
const { createChangeSet, executeChangeSet, listStacks, waitForChangeSet } = await import(
  join(ROOT, "dist/aws/stacks.js")
);
const { loadManifests } = await import(join(ROOT, "dist/manifest/load.js"));
const { mapBounded } = await import(join(ROOT, "dist/reconcile/planRepo.js"));
const { createReconciler } = await import(join(ROOT, "dist/reconcile/reconciler.js"));
const { createAmiFeed } = await import(join(ROOT, "dist/render/ami.js"));
const { HOOK_NAME } = await import(join(ROOT, "dist/render/contract.js"));
const { renderStack, stackTags } = await import(join(ROOT, "dist/render/template.js"));
const { createGitSource } = await import(join(ROOT, "dist/source/git.js"));

const run = promisify(execFile);
const GIT_ENV = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
const IDENTITY = ["-c", "user.name=Bench", "-c", "user.email=bench@quorate.invalid"];
const git = async (cwd, args) =>
  (await run("git", [...IDENTITY, ...args], { cwd, env: GIT_ENV })).stdout.trim();
const sleep = (msecs) => new Promise((resolve) => setTimeout(resolve, msecs));

/** `count` one-member manifests committed to a new repository; returns the sha. */
async function manifestRepo(dir, count) {
  await git(dir, ["init", "--quiet", "-b", "main"]);
  mkdirSync(join(dir, "clusters"));
  for (let i = 0; i < count; i++) {
    const name = `cluster-${String(i).padStart(4, "0")}`;
    writeFileSync(
      join(dir, "clusters", `${name}.yaml`),
      `apiVersion: quorate.dev/v1alpha1
kind: EtcdCluster
metadata:
  name: ${name}
spec:
  region: ${REGION}
  size: 1
  instanceType: t3.medium
  image: { os: flatcar, channel: stable, version: 4081.2.0 }
  network:
    vpcId: vpc-0a1b2c3d4e5f60718
    subnetIds: [subnet-0a1b2c3d4e5f60001, subnet-0a1b2c3d4e5f60002]
  etcd: { version: 3.5.17 }
  gates: { stableFor: PT1S, probeTimeout: PT1S }
`,
    );
  }
  await git(dir, ["add", "--all"]);
  await git(dir, ["commit", "--quiet", "-m", `${count} clusters`]);
  return git(dir, ["rev-parse", "HEAD"]);
}

/** Stand-in for quorate's bootstrap (no etcd here): completes every launching hook. */
function completeLaunchingHooks(asg) {
  let stopped = false;
  let pending = -1;
  const loop = (async () => {
    while (!stopped) {
      const waiting = [];
      let notInService = 0;
      let NextToken;
      do {
        const out = await asg.send(
          new DescribeAutoScalingGroupsCommand({ MaxRecords: 100, NextToken }),
        );
        for (const g of out.AutoScalingGroups ?? [])
          for (const i of g.Instances ?? []) {
            if (i.LifecycleState !== "InService") notInService++;
            if (i.LifecycleState === "Pending:Wait")
              waiting.push({ group: g.AutoScalingGroupName, instanceId: i.InstanceId });
          }
        NextToken = out.NextToken;
      } while (NextToken);
      pending = notInService;
      await mapBounded(waiting, 8, (w) =>
        completeLifecycleAction(asg, { ...w, hook: HOOK_NAME.launching, result: "CONTINUE" }),
      );
      await sleep(100);
    }
  })();
  return {
    pending: () => pending,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

async function createStacks(clients, specs, feed, revision) {
  const cfn = clients.cloudFormation;
  const hooks = completeLaunchingHooks(clients.autoScaling);
  try {
    await mapBounded(specs, 16, async (spec) => {
      const rendered = renderStack(spec, { imageId: await feed.resolve(spec) });
      const id = await createChangeSet(cfn, {
        stackName: spec.stackName,
        changeSetName: `quorate-${rendered.templateSha256.slice(0, 10)}`,
        templateBody: rendered.templateBody,
        tags: stackTags(rendered, { revision, owner: "default" }),
        type: "CREATE",
      });
      const outcome = await waitForChangeSet(cfn, id, { stackName: spec.stackName, pollMs: 50 });
      if (outcome.kind !== "changes") throw new Error(`${spec.name}: change set ${outcome.kind}`);
      await executeChangeSet(cfn, id, spec.stackName);
    });
    for (;;) {
      const stacks = await listStacks(cfn);
      const bad = stacks.filter((s) => /FAILED|ROLLBACK/.test(s.status));
      if (bad.length > 0) throw new Error(`stacks failed: ${bad.map((s) => s.stackName)}`);
      const complete = stacks.filter((s) => s.status === "CREATE_COMPLETE").length;
      if (complete === specs.length && hooks.pending() === 0) return;
      await sleep(250);
    }
  } finally {
    await hooks.stop();
  }
}

async function counted(cloud, work) {
  await cloud.admin.resetCounters();
  const started = performance.now();
  const value = await work();
  const wallMs = performance.now() - started;
  const calls = await cloud.admin.counters();
  return { value, wallMs, calls, total: Object.values(calls).reduce((a, b) => a + b, 0) };
}

async function measure(count) {
  const scratch = mkdtempSync(join(tmpdir(), "quorate-bench-economy-"));
  const repoDir = join(scratch, "repo");
  mkdirSync(repoDir);
  const cloud = await startLocalCloud({
    port: 0,
    dataDir: join(scratch, "cloud"),
    network: `127.${250 + Math.floor(Math.random() * 5)}.0.0`,
    timeScale: 0.05,
    bootDelayMs: 20,
    operationDelayMs: 2,
    stopGraceMs: 1000,
    withoutEtcd: true,
  });
  try {
    const aws = createAwsClientPool({ endpoint: cloud.endpoint }, {});
    const amiFeed = createAmiFeed({
      source: `${cloud.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
    });
    const revision = await manifestRepo(repoDir, count);
    const loaded = await loadManifests(["clusters"], repoDir);
    if (loaded.errors.length > 0 || loaded.clusters.length !== count)
      throw new Error(`expected ${count} valid manifests: ${JSON.stringify(loaded.errors[0])}`);
    const t = performance.now();
    await createStacks(aws(REGION), loaded.clusters, amiFeed, revision);
    const setupMs = performance.now() - t;

    const reconciler = createReconciler({
      source: createGitSource({ repo: repoDir, branch: "main", cacheDir: join(scratch, "git") }),
      path: "clusters",
      aws,
      amiFeed,
      etcd: {},
      onEvent: (event) => {
        throw new Error(`a no-op pass emitted an event: ${JSON.stringify(event)}`);
      },
      waitForRollouts: true,
      probeHealth: true,
    });
    // What a pass cannot avoid: the same reads made bare, and a git sync that finds nothing new.
    const clients = aws(REGION);
    const bareReads = async () => {
      const stacks = await listStacks(clients.cloudFormation);
      const names = stacks.map((s) => s.outputs.GroupName);
      const ids = [];
      // 50 names per call: AWS's limit without MaxRecords, as the pass does.
      for (let i = 0; i < names.length; i += 50)
        for (const g of (
          await describeGroups(clients.autoScaling, names.slice(i, i + 50))
        ).values())
          ids.push(...g.instances.map((inst) => inst.instanceId));
      await describeInstances(clients.ec2, ids);
    };
    const syncOnly = createGitSource({
      repo: repoDir,
      branch: "main",
      cacheDir: join(scratch, "git-baseline"),
    });
    await syncOnly.sync();
    const passes = [];
    const listings = [];
    const reads = [];
    const syncs = [];
    for (let i = 0; i < 1 + PASSES; i++) {
      const pass = await counted(cloud, () => reconciler.pass());
      const summary = pass.value;
      const notReady = summary.clusters.filter((c) => c.outcome !== "ready");
      if (summary.clusters.length !== count || notReady.length > 0)
        throw new Error(`pass ${i}: ${notReady.length} clusters not ready: ${notReady[0]?.action}`);
      if (
        pass.calls["cloudformation:CreateChangeSet"] ||
        pass.calls["cloudformation:ExecuteChangeSet"]
      )
        throw new Error(`pass ${i} made a change set: ${JSON.stringify(pass.calls)}`);
      passes.push(pass);
      listings.push(await counted(cloud, () => listStacks(clients.cloudFormation)));
      reads.push(await counted(cloud, bareReads));
      syncs.push(await counted(cloud, () => syncOnly.sync()));
    }
    const [first, ...warm] = passes;
    const calls = warm[warm.length - 1].calls;
    const total = warm[warm.length - 1].total;
    if (warm.some((p) => p.total !== total)) throw new Error("passes made different calls");
    return {
      clusters: count,
      stackCreationSetupMs: setupMs,
      callsPerPass: total,
      callsPerCluster: total / count,
      callsByAction: calls,
      firstPassCalls: first.total,
      firstPassMs: first.wallMs,
      passMedianMs: median(warm.map((p) => p.wallMs)),
      baselineListStacksCalls: listings[0].total,
      baselineListStacksMedianMs: median(listings.map((l) => l.wallMs)),
      bareReadsCalls: reads[0].total,
      bareReadsMedianMs: median(reads.map((r) => r.wallMs)),
      gitSyncMedianMs: median(syncs.map((r) => r.wallMs)),
      goalCallsPerCluster: 2,
    };
  } finally {
    await cloud.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const results = [];
for (const count of COUNTS) {
  const r = await measure(count);
  results.push(r);
  console.error(
    `no-op pass over ${count} clusters: ${r.callsPerPass} AWS calls (${r.callsPerCluster.toFixed(3)} per cluster, goal <= 2) ` +
      `${JSON.stringify(r.callsByAction)}; pass median ${ms(r.passMedianMs)} (first pass ${ms(r.firstPassMs)}), ` +
      `baseline DescribeStacks listing ${ms(r.baselineListStacksMedianMs)} in ${r.baselineListStacksCalls} calls ` +
      `(x${(r.passMedianMs / r.baselineListStacksMedianMs).toFixed(2)}), the same ${r.bareReadsCalls} reads bare ${ms(r.bareReadsMedianMs)}, ` +
      `a git sync with nothing new ${ms(r.gitSyncMedianMs)}; creating the stacks took ${ms(r.stackCreationSetupMs)}`,
  );
}
console.log(
  JSON.stringify(
    { benchmark: "no-op reconcile pass: AWS calls and wall time", machine: machine(), results },
    null,
    2,
  ),
);
