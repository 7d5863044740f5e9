// #15, rollouts at production size: the launch-first rollout of a 5-member
// cluster holding --data-mib of keys and values (written before the rollout,
// inside the quota) under a write load of --rate writes/s shared by --writers
// writers (bench/writeLoad.mjs), compared with its physical limit measured in
// the same run as bench/rollout.bench.mjs measures it: for each new member,
// from its instance's launch to its promotion as a caught-up voter. Goals at
// 1 GiB and 500 writes/s: ratio <= 1.2, 0 failed or lost writes, p99 during
// the rollout <= 3x p99 before, quorate's peak RSS < 150 MiB. quorate runs
// the rollout in its own process (bench/rolloutApplyProcess.mjs) so that its
// RSS and CPU are its own. Runs against dist/ (npm run build).
// Usage: node bench/rollout-load.bench.mjs [--data-mib 1024] [--rate 500]
//   [--writers 16] [--value-kib 1024] [--before-s 10] [--boot-ms 5000]
//   [--order launchFirst] [--limit-min 20] [--gates bench|example]
// --gates example keeps clusters/prod.yaml's own gates (stableFor PT1M...):
// the time they add is the operator's choice, so it is reported apart.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { memberStatus, put } from "./etcdGateway.mjs";
import { machine, ms } from "./machine.mjs";
import { startWriteLoad, summarize } from "./writeLoad.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dist = (path) => import(join(ROOT, "dist", path));
const [
  { startLocalCloud },
  { createAwsClientPool },
  { createAmiFeed },
  { parseManifests },
  { applyCluster },
  { describeInstances },
  { describeGroups },
  { stackResourceId },
] = await Promise.all([
  dist("localcloud/index.js"),
  dist("aws/clients.js"),
  dist("render/ami.js"),
  dist("manifest/parse.js"),
  dist("reconcile/apply.js"),
  dist("aws/instances.js"),
  dist("aws/groups.js"),
  dist("aws/stacks.js"),
]);

const { values: args } = parseArgs({
  options: {
    "data-mib": { type: "string", default: "1024" },
    rate: { type: "string", default: "500" },
    writers: { type: "string", default: "16" },
    "value-kib": { type: "string", default: "1024" },
    "before-s": { type: "string", default: "10" },
    "boot-ms": { type: "string", default: process.env.BOOT_MS ?? "5000" },
    order: { type: "string", default: "launchFirst" },
    "limit-min": { type: "string", default: "20" },
    gates: { type: "string", default: "bench" },
  },
});
const MiB = 2 ** 20;
const DATA_MIB = Number(args["data-mib"]);
const RATE = Number(args.rate);
const WRITERS = Number(args.writers);
const VALUE_BYTES = Number(args["value-kib"]) * 1024;
const BEFORE_MS = Number(args["before-s"]) * 1000;
const BOOT_MS = Number(args["boot-ms"]);
const ORDER = args.order;
const FILL_WRITERS = 8;
const GATES = args.gates;
if (GATES !== "bench" && GATES !== "example") throw new Error("--gates is bench or example");
const BENCH_GATES = {
  stableFor: "PT0S",
  abortAfter: "PT5M",
  deadMemberGrace: "PT1M",
  probeTimeout: "PT1S",
  maxAppliedIndexLag: 1000,
};
// Room for the data twice over (bbolt's pages, the revisions the load adds) and
// 1 GiB more, at least etcd's default 2 GiB, at most its recommended 8 GiB.
const QUOTA = Math.min(8 * 1024 * MiB, Math.max(2 * 1024 * MiB, (2 * DATA_MIB + 1024) * MiB));

function manifestText(version) {
  const manifest = parse(readFileSync(join(ROOT, "clusters/prod.yaml"), "utf8"));
  manifest.metadata.name = "prod-load";
  manifest.spec.stackName = "quorate-bench-load";
  manifest.spec.image.version = version;
  manifest.spec.etcd.quotaBackendBytes = QUOTA;
  manifest.spec.updatePolicy = { ...manifest.spec.updatePolicy, order: ORDER };
  // The gates of bench/rollout.bench.mjs, or the example's own.
  if (GATES === "bench") manifest.spec.gates = BENCH_GATES;
  return stringify(manifest);
}

const dataDir = mkdtempSync(join(tmpdir(), "quorate-bench-rollout-load-"));
let cloud;
let child;
let refresher;
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  clearInterval(refresher);
  child?.kill("SIGKILL");
  await cloud?.close();
  rmSync(dataDir, { recursive: true, force: true });
}
// Under `timeout` or ^C: no etcd left behind.
for (const signal of ["SIGTERM", "SIGINT"])
  process.on(signal, () => void cleanup().finally(() => process.exit(1)));
const deadline = setTimeout(() => {
  console.error(`rollout-load bench: over ${args["limit-min"]} min, stopping`);
  void cleanup().finally(() => process.exit(1));
}, Number(args["limit-min"]) * 60_000);
deadline.unref();

/** quorate's upgrade in its own process: its events, and its outcome with start, end, RSS and CPU. */
function applyInChild(endpoint, file) {
  return new Promise((resolve, reject) => {
    child = spawn(process.execPath, [join(ROOT, "bench/rolloutApplyProcess.mjs"), endpoint, file], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const events = [];
    let done;
    let buffered = "";
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop();
      for (const line of lines) {
        const parsed = JSON.parse(line);
        if (parsed.event) events.push(parsed.event);
        if (parsed.done) done = parsed.done;
      }
    });
    child.on("error", reject);
    child.on("close", (code) =>
      done ? resolve({ events, done }) : reject(new Error(`quorate's process ended ${code}`)),
    );
  });
}

try {
  cloud = await startLocalCloud({
    port: 0,
    dataDir,
    network: `127.${200 + Math.floor(Math.random() * 40)}.${1 + Math.floor(Math.random() * 200)}.0`,
    timeScale: 0.1,
    bootDelayMs: BOOT_MS,
    operationDelayMs: 50,
    stopGraceMs: 2000,
  });
  const aws = createAwsClientPool({ endpoint: cloud.endpoint }, {});
  const amiFeed = createAmiFeed({
    source: `${cloud.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
  });
  const before = parseManifests([{ file: "prod.yaml", text: manifestText("4081.2.0") }])
    .clusters[0];
  if (!before) throw new Error("clusters/prod.yaml did not load");
  const created = await applyCluster(
    { aws, amiFeed, etcd: {}, onEvent: () => {}, tickMs: 100, heartbeatEveryMs: 2000 },
    before,
    { revision: "bench-create" },
  );
  if (created.result !== "applied") throw new Error(`create: ${created.message}`);
  const createdAt = Date.now();

  // The writers follow the group, as a client behind a DNS name over it would:
  // every in-service instance is an endpoint, read again every 500 ms.
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
  let endpoints = await clientURLs();
  refresher = setInterval(() => {
    clientURLs().then(
      (list) => (endpoints = list),
      () => {},
    );
  }, 500);

  // The data, before the rollout: VALUE_BYTES random values, spread over the members.
  const fillAgent = new http.Agent({ keepAlive: true, maxSockets: FILL_WRITERS });
  const values = Math.ceil((DATA_MIB * MiB) / VALUE_BYTES);
  const fillStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: FILL_WRITERS }, async () => {
      while (next < values) {
        const i = next++;
        const endpoint = endpoints[i % endpoints.length];
        await put(
          fillAgent,
          endpoint,
          `data/${String(i).padStart(6, "0")}`,
          randomBytes(VALUE_BYTES),
          30_000,
        );
      }
    }),
  );
  const fillMs = performance.now() - fillStarted;
  const dbSizes = [];
  for (const e of endpoints) dbSizes.push((await memberStatus(fillAgent, e, 5000)).dbSize);
  fillAgent.destroy();
  const fill = {
    values,
    valueBytes: VALUE_BYTES,
    ms: Math.round(fillMs),
    mibPerS: values > 0 ? Number(((values * VALUE_BYTES) / MiB / (fillMs / 1000)).toFixed(1)) : 0,
    dbSizeMiB: dbSizes.map((b) => Math.round(b / MiB)),
    quotaMiB: QUOTA / MiB,
  };
  console.error(
    `filled ${values} x ${VALUE_BYTES / 1024} KiB in ${(fillMs / 1000).toFixed(1)} s (${fill.mibPerS} MiB/s); db ${fill.dbSizeMiB.join(", ")} MiB; quota ${QUOTA / MiB} MiB`,
  );
  // A cluster that has just formed refuses membership changes for etcd's 5 s
  // health interval; one being upgraded has been up far longer.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, createdAt + 6000 - Date.now())));

  const load = startWriteLoad({
    endpoints: () => endpoints,
    rate: RATE,
    writers: WRITERS,
    prefix: "load/",
  });
  await new Promise((resolve) => setTimeout(resolve, BEFORE_MS));
  const file = join(dataDir, "prod-upgrade.yaml");
  writeFileSync(file, manifestText("4152.2.0"));
  const { events, done } = await applyInChild(cloud.endpoint, file);
  child = undefined;
  const writes = await load.stop();
  // Each member's database after the rollout: what the replays and snapshots left.
  const endAgent = new http.Agent({ keepAlive: true });
  const dbAfterMiB = [];
  for (const e of endpoints)
    dbAfterMiB.push(Math.round((await memberStatus(endAgent, e, 5000)).dbSize / MiB));
  endAgent.destroy();
  if (done.result !== "applied") throw new Error(`upgrade: ${done.message}`);

  // Each new member's own time: from its instance's launch to its promotion.
  const promoted = events.filter((e) => e.type === "member-promoted");
  const launched = await describeInstances(
    clients.ec2,
    promoted.map((e) => e.instanceId),
  );
  const own = promoted.map((e) => {
    const launch = launched.get(e.instanceId)?.launchTime?.getTime();
    if (!launch) throw new Error(`no launch time for ${e.instanceId}`);
    return Date.parse(e.at) - launch;
  });
  const limitMs = own.reduce((sum, m) => sum + m, 0);
  const totalMs = done.ended - done.started;
  const beforeWindow = summarize(writes.samples, writes.t0, done.started);
  const during = summarize(writes.samples, done.started, done.ended);
  const result = {
    members: own.length,
    perMemberOwnMs: own.map((m) => Math.round(m)),
    physicalLimitMs: limitMs,
    rolloutTotalMs: totalMs,
    ratio: Number((totalMs / limitMs).toFixed(3)),
    fill,
    dbAfterMiB,
    writes: {
      targetRatePerS: RATE,
      writers: WRITERS,
      attempted: writes.attempted,
      acknowledged: writes.acknowledged,
      failed: writes.failed,
      lost: writes.lost.length,
      failures: writes.failures.slice(0, 20),
      before: beforeWindow,
      during,
      p99DuringOverBefore: Number((during.p99Ms / beforeWindow.p99Ms).toFixed(2)),
    },
    quorate: { peakRssMiB: Math.round(done.maxRssKiB / 1024), cpuMs: Math.round(done.cpuMs) },
    events: events.map(
      (e) => `${e.at.slice(11, 23)} ${e.instanceId ?? "-"} ${e.type}: ${e.message.slice(0, 300)}`,
    ),
  };
  console.error(
    `${ORDER} at ${DATA_MIB} MiB, ${RATE} writes/s target: rollout ${ms(totalMs)} vs physical limit ${ms(limitMs)} (x${result.ratio}, goal <= 1.2); ` +
      `writes ${writes.attempted} attempted, ${writes.acknowledged} acknowledged, ${writes.failed} failed, ${writes.lost.length} lost; ` +
      `before ${beforeWindow.ratePerS}/s p50 ${beforeWindow.p50Ms} p99 ${beforeWindow.p99Ms} max ${beforeWindow.maxMs} ms; ` +
      `during ${during.ratePerS}/s p50 ${during.p50Ms} p99 ${during.p99Ms} max ${during.maxMs} ms, longest gap ${during.worstStallMs} ms; ` +
      `quorate peak RSS ${result.quorate.peakRssMiB} MiB, CPU ${ms(done.cpuMs)}`,
  );
  console.log(
    JSON.stringify(
      {
        benchmark: "launch-first rollout of a loaded 5-member cluster vs its physical limit (#15)",
        machine: machine(),
        args: {
          dataMiB: DATA_MIB,
          rate: RATE,
          writers: WRITERS,
          valueKiB: VALUE_BYTES / 1024,
          beforeS: BEFORE_MS / 1000,
          bootMs: BOOT_MS,
          order: ORDER,
          gates: GATES,
        },
        gates: parse(manifestText("0.0.0")).spec.gates,
        result,
      },
      null,
      2,
    ),
  );
} finally {
  await cleanup();
}
