// quorate's side of bench/rollout-load.bench.mjs, in a process of its own so
// that its peak RSS and CPU time are quorate's alone: the local cloud, etcd and
// the write load run in the parent. Usage: node rolloutApplyProcess.mjs
// CLOUD_ENDPOINT MANIFEST_FILE. Writes every rollout event, then the outcome
// with the apply's start and end (Date.now()) and process.resourceUsage(), as
// JSON lines on stdout.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dist = (path) => import(join(ROOT, "dist", path));
const [{ createAwsClientPool }, { createAmiFeed }, { parseManifests }, { applyCluster }] =
  await Promise.all([
    dist("aws/clients.js"),
    dist("render/ami.js"),
    dist("manifest/parse.js"),
    dist("reconcile/apply.js"),
  ]);

const [endpoint, file] = process.argv.slice(2);
const emit = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const parsed = parseManifests([{ file, text: readFileSync(file, "utf8") }]);
const spec = parsed.clusters[0];
if (!spec) throw new Error(JSON.stringify(parsed.errors));
const deps = {
  aws: createAwsClientPool({ endpoint }, {}),
  amiFeed: createAmiFeed({
    source: `${endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
  }),
  etcd: {},
  onEvent: (event) => emit({ event }),
  // The same intervals as bench/rollout.bench.mjs, so the two compare.
  tickMs: 100,
  heartbeatEveryMs: 2000,
};
const started = Date.now();
const outcome = await applyCluster(deps, spec, { revision: "bench-upgrade" });
const ended = Date.now();
const usage = process.resourceUsage();
emit({
  done: {
    result: outcome.result,
    message: outcome.message,
    started,
    ended,
    maxRssKiB: usage.maxRSS,
    cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000,
  },
});
// Pooled SDK connections would keep the process alive; stdout to a pipe is synchronous on Linux.
process.exit(0);
