// A snapshot of a cluster holding at least 1 GiB to the local cloud's S3 (issue
// #9: at least 0.8x the throughput of `etcdctl snapshot save` to local disk,
// with the quorate process's peak RSS under 200 MiB). One local cloud with real
// etcd, a cluster applied from a manifest with spec.backup, filled with 1 MiB
// random values; then, in turns against the same member, `etcdctl snapshot
// save FILE` (the baseline) and the real `bin/quorate backup` as a child
// process (its peak RSS from /usr/bin/time, else /proc/PID/status VmHWM). Both
// are timed as whole processes, start-up included. Each object quorate stored
// is read back and checked against the size and sha256 it recorded; the last
// one is also read by `etcdctl snapshot status`. Runs against dist/ (npm run
// build). Environment: MEMBERS (1), FILL_MIB (1040), ROUNDS (3), PROFILE_DIR
// (write quorate's CPU profile there).
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { machine, median } from "./machine.mjs";

// quorate's own entry point (bin/quorate) sets the same for the children.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dist = (path) => import(join(ROOT, "dist", path));
// Commands from quorate's own SDK door, so that they go through its clients as its own do.
const { CreateBucketCommand, GetObjectCommand } = await dist("aws/sdk.js");
const [
  { startLocalCloud },
  { createAwsClientPool },
  { createAmiFeed },
  { parseManifests },
  { applyCluster },
  { probeCluster },
  { chooseSnapshotMember },
  { memberEndpoints },
] = await Promise.all([
  dist("localcloud/index.js"),
  dist("aws/clients.js"),
  dist("render/ami.js"),
  dist("manifest/parse.js"),
  dist("reconcile/apply.js"),
  dist("etcd/probe.js"),
  dist("reconcile/backup/memberChoice.js"),
  dist("reconcile/backup/snapshots.js"),
]);

const MEMBERS = Number(process.env.MEMBERS ?? 1);
const FILL_MIB = Number(process.env.FILL_MIB ?? 1040);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PROFILE_DIR = process.env.PROFILE_DIR; // the quorate process's CPU profiles go there
const VALUE_BYTES = 1024 * 1024; // under etcd's 1.5 MiB --max-request-bytes with the key
const WRITERS = 8;
const GOAL_RATIO = 0.8;
const GOAL_RSS_MIB = 200;
const LIMIT_MS = 20 * 60_000; // the whole run, setup included
const BUCKET = "quorate-bench-snapshots";
const MiB = 1024 * 1024;

const work = mkdtempSync(join(tmpdir(), "quorate-bench-snapshot-"));
const children = new Set();
let cloud;
const cleanup = async () => {
  for (const child of children) child.kill("SIGKILL");
  await cloud?.close();
  rmSync(work, { recursive: true, force: true });
};
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}
const deadline = setTimeout(() => {
  console.error(`snapshot bench: over ${LIMIT_MS / 60_000} min, stopping`);
  void cleanup().finally(() => process.exit(1));
}, LIMIT_MS);
deadline.unref();

/** Runs a command to its end; resolves with its output, wall time and peak RSS (KiB). */
function run(command, args, env = {}) {
  const timeFile = join(work, "time.txt");
  const timed = existsSync("/usr/bin/time");
  const [file, argv] = timed
    ? ["/usr/bin/time", ["-o", timeFile, "-f", "%M %U %S", command, ...args]]
    : [command, args];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, argv, {
      cwd: ROOT,
      env: { ...process.env, ETCDCTL_API: "3", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.add(child);
    let stdout = "";
    let stderr = "";
    let hwm = 0;
    // The RSS of the measured process every 100 ms, [ms, MiB], to see which phase
    // sets the peak (module loading or the stream). Under /usr/bin/time it is its child.
    const rssTrace = [];
    const poll = setInterval(() => {
      try {
        const pid = timed
          ? readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim()
          : child.pid;
        if (!pid) return;
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        const rss = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        hwm = Math.max(hwm, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
        rssTrace.push([Math.round(performance.now() - started), Math.round(rss / 1024)]);
      } catch {
        // the process has not started yet, or has just ended
      }
    }, 100);
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - started;
      children.delete(child);
      clearInterval(poll);
      if (code !== 0)
        return reject(new Error(`${command} ${args.join(" ")}: exit ${code}\n${stderr}`));
      const [rss, user, sys] = timed
        ? readFileSync(timeFile, "utf8").trim().split("\n").pop().split(" ").map(Number)
        : [hwm, Number.NaN, Number.NaN];
      resolve({ stdout, stderr, ms, rssKiB: rss, cpuS: user + sys, rssTrace });
    });
  });
}

const agent = new http.Agent({ keepAlive: true, maxSockets: WRITERS });
function put(endpoint, key, value) {
  const body = JSON.stringify({
    key: Buffer.from(key).toString("base64"),
    value: value.toString("base64"),
  });
  return new Promise((resolve, reject) => {
    const req = http.request(`${endpoint}/v3/kv/put`, { method: "POST", agent }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () =>
        res.statusCode === 200
          ? resolve()
          : reject(new Error(`put ${key}: ${res.statusCode} ${text}`)),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

async function sha256OfObject(s3, key, file) {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const hash = createHash("sha256");
  let size = 0;
  await pipeline(
    out.Body,
    async function* (chunks) {
      for await (const chunk of chunks) {
        hash.update(chunk);
        size += chunk.length;
        if (file) yield chunk;
      }
    },
    file
      ? createWriteStream(file)
      : async (chunks) => {
          for await (const _ of chunks);
        },
  );
  return { size, sha256: hash.digest("hex") };
}

try {
  cloud = await startLocalCloud({
    port: 0,
    dataDir: join(work, "cloud"),
    network: `127.${200 + Math.floor(Math.random() * 40)}.${1 + Math.floor(Math.random() * 200)}.0`,
    timeScale: 0.1,
    bootDelayMs: 500,
    operationDelayMs: 50,
    stopGraceMs: 2000,
  });
  const manifest = parse(readFileSync(join(ROOT, "clusters/dev.yaml"), "utf8"));
  manifest.metadata.name = "snapbench";
  manifest.spec.size = MEMBERS;
  manifest.spec.etcd.quotaBackendBytes = 4 * 1024 * MiB;
  manifest.spec.backup = { bucket: BUCKET, retention: { keepLast: 1 } };
  manifest.spec.gates = { stableFor: "PT0S", abortAfter: "PT2M", probeTimeout: "PT5S" };
  const text = stringify(manifest);
  await writeFile(join(work, "snapbench.yaml"), text);
  const parsed = parseManifests([{ file: "snapbench.yaml", text }]);
  const spec = parsed.clusters[0];
  if (!spec) throw new Error(JSON.stringify(parsed.errors));
  const aws = createAwsClientPool({ endpoint: cloud.endpoint }, {});
  const amiFeed = createAmiFeed({
    source: `${cloud.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
  });
  const applied = await applyCluster(
    { aws, amiFeed, etcd: {}, onEvent: () => {}, tickMs: 100, heartbeatEveryMs: 2000 },
    spec,
    { revision: "bench" },
  );
  if (applied.result !== "applied") throw new Error(`apply: ${applied.message}`);
  await aws(spec.region).s3.send(new CreateBucketCommand({ Bucket: BUCKET }));

  // The member quorate will choose; the baseline reads the same one.
  const endpoints = await memberEndpoints(aws(spec.region), spec);
  const choice = chooseSnapshotMember(await probeCluster(endpoints, { timeoutMs: 5000 }));
  if (!choice.source) throw new Error(choice.problem);
  const member = choice.source.endpoint;

  const fillStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < FILL_MIB) {
        const i = next++;
        await put(endpoints[0], `bench/${String(i).padStart(6, "0")}`, randomBytes(VALUE_BYTES));
      }
    }),
  );
  agent.destroy();
  const fillMs = performance.now() - fillStarted;
  const status = (await probeCluster([member], { timeoutMs: 5000 })).endpoints[0]?.status;
  const dbSize = Number(status?.dbSize ?? 0);
  console.error(
    `filled ${FILL_MIB} MiB of values in ${(fillMs / 1000).toFixed(1)} s; db ${(dbSize / MiB).toFixed(0)} MiB`,
  );

  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const file = join(work, "etcdctl.db");
    const base = await run("etcdctl", ["--endpoints", member, "snapshot", "save", file]);
    const baseBytes = statSync(file).size;
    rmSync(file, { force: true });

    const cloudCpu = process.cpuUsage();
    const q = await run(process.execPath, [
      ...(PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : []),
      join(ROOT, "bin/quorate"),
      "backup",
      "snapbench",
      "--path",
      work,
      "--endpoint",
      cloud.endpoint,
      "--format",
      "json",
    ]);
    const used = process.cpuUsage(cloudCpu);
    const taken = JSON.parse(q.stdout);
    const last = round === ROUNDS - 1;
    const copy = last ? join(work, "downloaded.db") : undefined;
    const stored = await sha256OfObject(aws(spec.region).s3, taken.object, copy);
    if (stored.size !== taken.size || stored.sha256 !== taken.sha256) {
      throw new Error(`stored object ${JSON.stringify(stored)} is not what quorate recorded`);
    }
    let etcdctlStatus;
    if (copy) {
      etcdctlStatus = JSON.parse(
        (await run("etcdctl", ["snapshot", "status", copy, "-w", "json"])).stdout,
      );
      rmSync(copy, { force: true });
    }
    const r = {
      baseline: {
        bytes: baseBytes,
        ms: base.ms,
        cpuS: base.cpuS,
        MiBps: baseBytes / MiB / (base.ms / 1000),
        rssMiB: base.rssKiB / 1024,
      },
      quorate: {
        bytes: taken.size,
        ms: q.ms,
        inProcessMs: taken.durationMs,
        cpuS: q.cpuS,
        localS3CpuS: (used.user + used.system) / 1e6,
        MiBps: taken.size / MiB / (q.ms / 1000),
        peakRssMiB: q.rssKiB / 1024,
        // RSS every 100 ms, [ms since the process started, MiB].
        rssTrace: q.rssTrace,
        member: taken.member.endpoint,
        sha256: taken.sha256,
      },
      ...(etcdctlStatus ? { etcdctlStatusOfDownloadedCopy: etcdctlStatus } : {}),
    };
    r.ratio = r.quorate.MiBps / r.baseline.MiBps;
    rounds.push(r);
    console.error(
      `round ${round + 1}: etcdctl ${r.baseline.MiBps.toFixed(0)} MiB/s (${(base.ms / 1000).toFixed(2)} s), ` +
        `quorate ${r.quorate.MiBps.toFixed(0)} MiB/s (${(q.ms / 1000).toFixed(2)} s, in-process ${(taken.durationMs / 1000).toFixed(2)} s, cpu ${q.cpuS.toFixed(1)} s + local S3 ${r.quorate.localS3CpuS.toFixed(1)} s, peak RSS ${r.quorate.peakRssMiB.toFixed(0)} MiB), x${r.ratio.toFixed(2)}`,
    );
  }
  const ratio = median(rounds.map((r) => r.ratio));
  const peakRss = Math.max(...rounds.map((r) => r.quorate.peakRssMiB));
  console.log(
    JSON.stringify(
      {
        benchmark: "snapshot of a >= 1 GiB cluster to the local S3 vs etcdctl snapshot save",
        machine: machine(),
        members: MEMBERS,
        fill: {
          values: FILL_MIB,
          valueBytes: VALUE_BYTES,
          writers: WRITERS,
          ms: fillMs,
          dbSizeBytes: dbSize,
        },
        medianRatio: ratio,
        goalRatio: GOAL_RATIO,
        maxPeakRssMiB: peakRss,
        goalRssMiB: GOAL_RSS_MIB,
        met: ratio >= GOAL_RATIO && peakRss < GOAL_RSS_MIB,
        rounds,
      },
      null,
      2,
    ),
  );
} finally {
  await cleanup();
}
