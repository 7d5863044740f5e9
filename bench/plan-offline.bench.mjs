// Plans 1,000 clusters offline (issue: at most 2 s wall on a 2-core machine), then
// re-plans the one cluster whose manifest changed (at most 150 ms).
// Offline = both revisions' manifests loaded, validated and rendered, every template
// pair diffed with replacements predicted from the resource specification, and the
// plan written as text, markdown and json. Baseline in the same run: loading and
// rendering the head revision alone, which any plan has to do.
// Runs against dist/ (npm run build).
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { machine, median, ms } from "./machine.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const COUNT = 1000;
/** One cluster in CHANGED_EVERY gets a new Flatcar version in the head revision. */
const CHANGED_EVERY = 5;
const RUNS = 5;

const { loadManifests } = await import(join(ROOT, "dist/manifest/load.js"));
const { parseManifests } = await import(join(ROOT, "dist/manifest/parse.js"));
const { createAmiFeed } = await import(join(ROOT, "dist/render/ami.js"));
const { renderStack } = await import(join(ROOT, "dist/render/template.js"));
const plan = await import(join(ROOT, "dist/plan/index.js"));
const { planOffline } = await import(join(ROOT, "dist/reconcile/planRepo.js"));

const TEMPLATE = readFileSync(join(ROOT, "clusters/dev.yaml"), "utf8");

function manifest(i, version) {
  return TEMPLATE.replace("name: dev", `name: c${i}`)
    .replace("size: 3", `size: ${i % 3 === 0 ? 5 : 3}`)
    .replace("version: 4081.2.0", `version: ${version}`);
}

function generate(dir, changed) {
  for (let i = 0; i < COUNT; i++) {
    const sub = join(dir, `team-${i % 20}`);
    mkdirSync(sub, { recursive: true });
    const version = changed(i) ? "4152.2.0" : "4081.2.0";
    writeFileSync(join(sub, `c${i}.yaml`), manifest(i, version));
  }
}

const feed = createAmiFeed({ source: join(ROOT, "test/fixtures/flatcar") });

async function renderAll(specs) {
  const templates = new Map();
  for (const spec of specs) {
    templates.set(spec.name, renderStack(spec, { imageId: await feed.resolve(spec) }).template);
  }
  return templates;
}

async function loadAndRender(dir) {
  const loaded = await loadManifests([dir], dir);
  if (loaded.errors.length > 0) throw new Error(loaded.errors[0].problem);
  return { specs: loaded.clusters, templates: await renderAll(loaded.clusters) };
}

function planCluster(spec, before, after, updateBehaviour) {
  return plan.planFromTemplates({
    cluster: spec.name,
    stackName: spec.stackName,
    before,
    after,
    updateBehaviour,
  });
}

function formatAll(p) {
  return (
    plan.formatText(p, { color: false }).length +
    plan.formatMarkdown(p).length +
    plan.formatJson(p).length
  );
}

// The offline plan as `quorate plan --offline` runs it (src/reconcile/planRepo.ts):
// the head is loaded, the base's changed files parsed, every cluster diffed.
async function offlinePlan(baseDir, headDir) {
  const head = await loadManifests(["."], headDir);
  const result = await planOffline(head.clusters, head.invalid, {
    amiFeed: feed,
    baseDir,
    path: ".",
    baseRevision: "base",
    revision: "head",
    headTexts: head.texts,
  });
  return { plan: result, chars: formatAll(result) };
}

const root = mkdtempSync(join(tmpdir(), "quorate-bench-plan-"));
try {
  const baseDir = join(root, "base");
  const headDir = join(root, "head");
  generate(baseDir, () => false);
  generate(headDir, (i) => i % CHANGED_EVERY === 0);

  // The resource specification loads once per process; measured apart from the runs.
  let t = performance.now();
  const updateBehaviour = plan.serviceSpecUpdateBehaviour();
  updateBehaviour("AWS::EC2::LaunchTemplate", ["LaunchTemplateData", "ImageId"]);
  const specLoadMs = performance.now() - t;

  const baseline = [];
  const full = [];
  let last;
  for (let run = 0; run < RUNS; run++) {
    t = performance.now();
    await loadAndRender(headDir);
    baseline.push(performance.now() - t);
    t = performance.now();
    last = await offlinePlan(baseDir, headDir);
    full.push(performance.now() - t);
  }
  const summary = plan.summarize(last.plan);
  if (
    summary.toRoll !== COUNT / CHANGED_EVERY ||
    summary.unchanged !== COUNT - COUNT / CHANGED_EVERY
  ) {
    throw new Error(`unexpected plan summary ${JSON.stringify(summary)}`);
  }

  const base = await loadAndRender(baseDir);
  // One manifest changes: re-plan that cluster alone (parse + validate + render its head,
  // diff against its base template, already rendered) and rewrite the whole plan's outputs.
  const one = [];
  const oneWithFormat = [];
  for (let run = 0; run < RUNS * 4; run++) {
    const i = 1 + run * 7; // not one of the clusters changed above
    const text = manifest(i, run % 2 ? "4081.2.0" : "4152.2.0").replace("PT10M", "PT11M");
    t = performance.now();
    const parsed = parseManifests([{ file: `team-${i % 20}/c${i}.yaml`, text }]);
    const spec = parsed.clusters[0];
    const after = renderStack(spec, { imageId: await feed.resolve(spec) }).template;
    const replanned = planCluster(spec, base.templates.get(spec.name), after, updateBehaviour);
    one.push(performance.now() - t);
    if (replanned.status !== "update") throw new Error(`c${i} should change`);
    const clusters = last.plan.clusters.map((c) => (c.cluster === spec.name ? replanned : c));
    formatAll({ ...last.plan, clusters });
    oneWithFormat.push(performance.now() - t);
  }

  // The same re-plan in a fresh process (as a one-off CLI run would): node start, module
  // load, both renders, and the resource specification's first load, which dominates.
  const coldScript = `
    const [{ parseManifests }, { createAmiFeed }, { renderStack }, plan] = await Promise.all([
      import(${JSON.stringify(join(ROOT, "dist/manifest/parse.js"))}),
      import(${JSON.stringify(join(ROOT, "dist/render/ami.js"))}),
      import(${JSON.stringify(join(ROOT, "dist/render/template.js"))}),
      import(${JSON.stringify(join(ROOT, "dist/plan/index.js"))}),
    ]);
    const feed = createAmiFeed({ source: ${JSON.stringify(join(ROOT, "test/fixtures/flatcar"))} });
    const [before, after] = ${JSON.stringify([manifest(1, "4081.2.0"), manifest(1, "4152.2.0")])}.map((text) => {
      const spec = parseManifests([{ file: "c1.yaml", text }]).clusters[0];
      return { spec, imageId: feed.resolve(spec) };
    });
    const p = plan.planFromTemplates({ cluster: "c1", stackName: after.spec.stackName,
      before: renderStack(before.spec, { imageId: await before.imageId }).template,
      after: renderStack(after.spec, { imageId: await after.imageId }).template,
      updateBehaviour: plan.serviceSpecUpdateBehaviour() });
    process.stdout.write(plan.formatMarkdown({ source: "offline", clusters: [p] }).slice(0, 40));
  `;
  t = performance.now();
  const cold = spawnSync(process.execPath, ["--input-type=module", "-e", coldScript], {
    encoding: "utf8",
  });
  const coldMs = performance.now() - t;
  if (cold.status !== 0) throw new Error(`cold re-plan failed: ${cold.stderr}`);

  const result = {
    benchmark: "offline plan of 1,000 clusters; re-plan of one changed cluster",
    machine: machine(),
    clusters: COUNT,
    changedClusters: COUNT / CHANGED_EVERY,
    outputChars: last.chars,
    resourceSpecLoadMs: specLoadMs,
    baselineLoadRenderHeadMedianMs: median(baseline),
    offlinePlanMedianMs: median(full),
    offlinePlanFirstRunMs: full[0],
    ratioToBaseline: median(full) / median(baseline),
    replanOneClusterMedianMs: median(one),
    replanOneClusterMaxMs: Math.max(...one),
    replanOneClusterAndFormatAllMedianMs: median(oneWithFormat),
    replanOneColdProcessMs: coldMs,
    goalMs: { offlinePlan: 2000, replanOne: 150 },
  };
  console.log(JSON.stringify(result, null, 2));
  console.error(
    `offline plan of ${COUNT}: median ${ms(result.offlinePlanMedianMs)} (goal <= 2000 ms; ` +
      `+ ${ms(specLoadMs)} resource spec load once per process), ` +
      `baseline load+render head ${ms(result.baselineLoadRenderHeadMedianMs)}; ` +
      `re-plan one: median ${ms(result.replanOneClusterMedianMs)} (goal <= 150 ms), ` +
      `with all three formats of the whole plan ${ms(result.replanOneClusterAndFormatAllMedianMs)}, ` +
      `in a cold process ${ms(coldMs)}`,
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
