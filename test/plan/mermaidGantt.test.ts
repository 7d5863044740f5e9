// The plan comment's Mermaid gantt, parsed and drawn by the real `mermaid`
// package. Its parser needs a DOM (DOMPurify), which Node 20 has not, so the
// package runs where GitHub runs it: in a browser, headless Chromium here
// (test/helpers/chromium.ts). A chart with a syntax error must fail here.
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planFromTemplates } from "../../src/plan/clusterPlan.js";
import { formatMarkdown, GITHUB_COMMENT_MAX } from "../../src/plan/format/markdown.js";
import { withLiveDetail } from "../../src/plan/liveDetail.js";
import type { Plan } from "../../src/plan/model.js";
import { parseRolloutHistory } from "../../src/plan/rolloutHistory.js";
import { serviceSpecUpdateBehaviour } from "../../src/plan/updateBehaviour.js";
import { launchChromium, type TestBrowser } from "../helpers/chromium.js";
import { changeSetPlan } from "./scenarios.js";
import { etcdTemplate, facts } from "./stack.js";

const MERMAID = createRequire(import.meta.url).resolve("mermaid/dist/mermaid.min.js");

let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.setContent("<!doctype html><html><body></body></html>");
  await page.addScriptTag({ path: MERMAID });
  await page.evaluate(() =>
    (globalThis as any).mermaid.initialize({ startOnLoad: false, securityLevel: "strict" }),
  );
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

function ganttOf(markdown: string): string[] {
  return [...markdown.matchAll(/```mermaid\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? "");
}

/** mermaid.parse, then mermaid.render: the number of task bars drawn, or the error. */
async function draw(text: string): Promise<{ bars: number } | { error: string }> {
  return page.evaluate(async (source) => {
    const mermaid = (globalThis as any).mermaid;
    try {
      await mermaid.parse(source);
      const { svg } = await mermaid.render(`chart${Math.floor(Math.random() * 1e9)}`, source);
      const doc = new (globalThis as any).DOMParser().parseFromString(svg, "image/svg+xml");
      return { bars: doc.querySelectorAll("rect.task").length };
    } catch (error) {
      return { error: String((error as Error)?.message ?? error) };
    }
  }, text);
}

function rollingClusters(count: number, members: number): Plan {
  const spec = serviceSpecUpdateBehaviour();
  const history = parseRolloutHistory("20240506T1213Z=95/102/98/97/99");
  const clusters = [];
  for (let i = 0; i < count; i++) {
    const before = facts(`cluster-${i}`, { size: members });
    const after = facts(`cluster-${i}`, { size: members, imageId: `ami-${i}` });
    const plan = planFromTemplates({
      cluster: before.cluster,
      stackName: before.stackName,
      before: etcdTemplate(before),
      after: etcdTemplate(after),
      updateBehaviour: spec,
    });
    // As a live plan would have it: a measured history for every cluster.
    plan.status = "update";
    clusters.push(withLiveDetail(plan, { history }));
  }
  return { source: "change-set", revision: "abc123", clusters };
}

describe("the plan comment's Mermaid gantt", () => {
  it("parses and draws one bar per expected member replacement", async () => {
    const [chart, ...more] = ganttOf(formatMarkdown(changeSetPlan()));
    expect(more).toEqual([]);
    expect(chart).toContain("section images");
    // images has three members and a measured history; compute has none, so no bars.
    expect(await draw(chart ?? "")).toEqual({ bars: 3 });
  });

  it("fails on a chart with a syntax error (the check can fail)", async () => {
    const [chart] = ganttOf(formatMarkdown(changeSetPlan()));
    const broken = (chart ?? "").replace("00:00:00, 99s", "00:00:00, 99 seconds, soon");
    const result = await draw(broken);
    expect(result).toHaveProperty("error");
  });

  it("stays under the comment limit for 200 rolling clusters, with a chart that still parses", async () => {
    const markdown = formatMarkdown(rollingClusters(200, 5));
    expect(markdown.length).toBeLessThanOrEqual(GITHUB_COMMENT_MAX);
    const charts = ganttOf(markdown);
    expect(charts).toHaveLength(1);
    const result = await draw(charts[0] ?? "");
    // 1000 member bars would be unreadable: past 20 clusters, one bar per cluster.
    expect(result).toEqual({ bars: 200 });
  }, 60_000);
});
