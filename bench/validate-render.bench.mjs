// Validates and renders 1,000 generated manifests (issue: at most 1.5 s wall on
// a 2-core machine). Baseline in the same run: reading and YAML-parsing the same
// files, the floor any validator pays. Runs against dist/ (npm run build).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { machine, median, ms } from "./machine.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const COUNT = 1000;
const RUNS = 5;

const { loadManifests } = await import(join(ROOT, "dist/manifest/load.js"));
const { createAmiFeed } = await import(join(ROOT, "dist/render/ami.js"));
const { renderStack } = await import(join(ROOT, "dist/render/template.js"));

function generate(dir) {
  const base = readFileSync(join(ROOT, "clusters/prod.yaml"), "utf8");
  const sizes = [1, 3, 5, 7, 9];
  const types = ["t3.medium", "m6i.large", "r6i.xlarge"];
  for (let i = 0; i < COUNT; i++) {
    const sub = join(dir, `team-${i % 20}`);
    mkdirSync(sub, { recursive: true });
    const size = sizes[i % sizes.length];
    const text = base
      .replace("name: prod", `name: cluster-${i}`)
      .replace("stackName: etcd-prod-euw1", `stackName: etcd-cluster-${i}`)
      .replace("size: 5", `size: ${size}`)
      .replace("minInstancesInService: 4", `minInstancesInService: ${size - 1}`)
      .replace("instanceType: m6i.large", `instanceType: ${types[i % types.length]}`)
      .replace("version: 4081.2.0", `version: ${i % 2 ? "4081.2.0" : "4152.2.0"}`);
    writeFileSync(join(sub, `cluster-${i}.yaml`), text);
  }
}

async function baseline(files) {
  for (const file of files) parseAllDocuments(await readFile(file, "utf8"));
}

async function validateAndRender(dir) {
  const loaded = await loadManifests([dir], dir);
  if (loaded.errors.length > 0 || loaded.clusters.length !== COUNT) {
    throw new Error(
      `expected ${COUNT} valid clusters, got ${loaded.clusters.length} and ${loaded.errors.length} errors`,
    );
  }
  const feed = createAmiFeed({ source: join(ROOT, "test/fixtures/flatcar") });
  let bytes = 0;
  for (const spec of loaded.clusters) {
    const rendered = renderStack(spec, { imageId: await feed.resolve(spec) });
    bytes += rendered.templateBody.length;
  }
  return bytes;
}

const dir = mkdtempSync(join(tmpdir(), "quorate-bench-"));
try {
  generate(dir);
  const files = (await loadManifests([dir], dir)).files.map((f) => join(dir, f));
  const base = [];
  const full = [];
  let bytes = 0;
  for (let run = 0; run < RUNS; run++) {
    let t = performance.now();
    await baseline(files);
    base.push(performance.now() - t);
    t = performance.now();
    bytes = await validateAndRender(dir);
    full.push(performance.now() - t);
  }
  // A cold process, as CI would run `quorate validate` on the repo: module load included.
  const t = performance.now();
  const cold = spawnSync(process.execPath, [join(ROOT, "bin/quorate"), "validate", dir], {
    encoding: "utf8",
  });
  const coldMs = performance.now() - t;
  if (cold.status !== 0) throw new Error(`quorate validate failed: ${cold.stderr}`);
  const result = {
    benchmark: "validate + render 1,000 manifests",
    machine: machine(),
    manifests: COUNT,
    templateBytes: bytes,
    baselineYamlParseMedianMs: median(base),
    validateRenderMedianMs: median(full),
    ratioToBaseline: median(full) / median(base),
    coldProcessValidateMs: coldMs,
    goalMs: 1500,
  };
  console.log(JSON.stringify(result, null, 2));
  console.error(
    `validate+render ${COUNT}: median ${ms(result.validateRenderMedianMs)} (goal <= 1500 ms), ` +
      `baseline YAML parse ${ms(result.baselineYamlParseMedianMs)} (x${result.ratioToBaseline.toFixed(2)}), ` +
      `cold \`quorate validate\` process ${ms(coldMs)}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
