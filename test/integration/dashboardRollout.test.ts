// The dashboard in a real browser during a real rollout (issue 11): `quorate
// run` (the built CLI, as a box runs it) creates a three-member cluster on the
// local cloud, then rolls a new image through it; headless Chromium
// (test/helpers/chromium.ts) opens / once the rollout runs and watches the
// member timeline grow and the rollout end without a reload, under the
// page's CSP with no console error. A screenshot is saved in the test's temp
// dir (QUORATE_KEEP_SCREENSHOT=1 keeps the dir and prints its path).
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { DaemonStatusBody } from "../../src/reconcile/server.js";
import { launchChromium, type TestBrowser } from "../helpers/chromium.js";
import { clusterManifest } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";
import { ensureBuilt, freePort, waitForExit } from "../localcloud/daemonHelpers.js";
import { commit, createRemote, removeDir, tempDir } from "../source/gitRepos.js";

const MAIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const manifest = (imageVersion: string) =>
  stringify(clusterManifest({ name: "dash", size: 3, imageVersion }));

let h: Harness;
let root: string;
let browser: TestBrowser;
let run: ChildProcess | undefined;
const log: string[] = [];

beforeAll(async () => {
  await ensureBuilt();
  h = await startHarness();
  root = await tempDir("dashboard");
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  if (run && run.exitCode === null) {
    run.kill("SIGTERM");
    await waitForExit(run).catch(() => run?.kill("SIGKILL"));
  }
  await browser?.close();
  await h?.close();
  if (process.env.QUORATE_KEEP_SCREENSHOT) process.stderr.write(`kept ${root}\n`);
  else await removeDir(root);
});

async function status(url: string): Promise<DaemonStatusBody | undefined> {
  const response = await fetch(`${url}/status`).catch(() => undefined);
  return response?.ok ? ((await response.json()) as DaemonStatusBody) : undefined;
}

/** The member steps the page shows now (its live fragment, as the browser has it). */
const memberSteps = (page: Page) =>
  page.locator('section[data-cluster="dash"] table.timeline ol.steps li').allInnerTexts();

describe("the dashboard during a rollout", () => {
  it("shows the member timeline advancing without a reload, and the rollout's end", async () => {
    const { remote, work } = await createRemote(root);
    await commit(work, { "clusters/dash.yaml": manifest("4081.2.0") }, "Add dash", { push: true });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    run = spawn(
      process.execPath,
      [
        MAIN,
        "run",
        ...["--repo", remote, "--branch", "main", "--endpoint", h.endpoint],
        ...["--listen", `127.0.0.1:${port}`, "--interval", "PT2S", "--tick", "200"],
        ...["--heartbeat-every", "PT1S", "--log-format", "json", "--cache-dir", join(root, "git")],
      ],
      {
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      },
    );
    run.stderr?.on("data", (chunk: Buffer) => log.push(...chunk.toString().split("\n")));
    const tail = () => log.slice(-20).join("\n");
    const dash = async () => (await status(url))?.clusters.find((c) => c.cluster === "dash");

    await waitFor(
      "dash created",
      async () => expect((await dash())?.stackStatus, tail()).toBe("CREATE_COMPLETE"),
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    await commit(work, { "clusters/dash.yaml": manifest("4152.2.0") }, "Upgrade dash", {
      push: true,
    });
    await waitFor(
      "the upgrade's rollout running",
      async () => expect((await status(url))?.busy, tail()).toContain("dash"),
      { timeoutMs: 30_000, intervalMs: 100 },
    );

    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
    let loads = 0;
    page.on("load", () => loads++);
    await page.goto(`${url}/`);
    // Set once: a reload would start a new document without it.
    await page.evaluate(() => {
      (globalThis as any).loadedOnce = true;
    });
    expect(
      await page.locator('section[data-cluster="dash"] .rollout').getAttribute("data-running"),
    ).toBe("true");
    await page.waitForFunction(
      () =>
        (globalThis as any).document.getElementById("connection")?.textContent?.startsWith("live"),
      undefined,
      { timeout: 10_000 },
    );
    const before = await memberSteps(page);

    // The timeline grows as members join and leave: two more steps than at load.
    await page.waitForFunction(
      (count) =>
        (globalThis as any).document.querySelectorAll(
          'section[data-cluster="dash"] table.timeline ol.steps li',
        ).length >=
        count + 2,
      before.length,
      { timeout: 90_000, polling: 200 },
    );
    const during = await memberSteps(page);
    expect(during.length).toBeGreaterThanOrEqual(before.length + 2);
    expect(during.some((s) => s.includes("learner added"))).toBe(true);

    // The end of the rollout, and the member table at its last probe: three voters, one leader.
    await page.waitForSelector(
      'section[data-cluster="dash"] .rollout[data-running="false"] .badge.ok',
      { timeout: 120_000 },
    );
    const roles = await page
      .locator('section[data-cluster="dash"] table.members td.role')
      .allInnerTexts();
    expect(roles.sort()).toEqual(["follower", "follower", "leader"]);
    const removed = (await memberSteps(page)).filter((s) => s.includes("removed"));
    expect(removed.length).toBeGreaterThanOrEqual(3);

    expect(await page.evaluate(() => (globalThis as any).loadedOnce)).toBe(true);
    expect(loads).toBe(1);
    expect(problems).toEqual([]);

    const shot = join(root, "dashboard.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe("PNG");
    await page.close();
  }, 300_000);
});
