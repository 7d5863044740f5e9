// quorate plan --offline: no AWS at all; the templates rendered at a base
// revision stand in for the live stacks (pull requests from forks).
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { cli } from "./run.js";

const FEED = fileURLToPath(new URL("../fixtures/flatcar", import.meta.url));
let repo: ManifestRepo;
let base: string;
const env = () => ({
  ...process.env,
  QUORATE_AMI_FEED: FEED,
  XDG_CACHE_HOME: `${repo.dir}/.cache`,
  AWS_ENDPOINT_URL: "http://127.0.0.1:9",
});

beforeAll(async () => {
  repo = await createManifestRepo({ prefix: "plan-offline" });
  repo.write("alpha", { name: "alpha", size: 3 });
  repo.write("beta", { name: "beta", size: 1 });
  repo.write("gone", { name: "gone", size: 1 });
  base = await repo.commit("base");
  repo.update("alpha", (m) => {
    m.spec.image.version = "4152.2.0";
  });
  repo.remove("gone");
  await repo.commit("head: upgrade alpha, delete gone");
});
afterAll(async () => {
  await repo?.close();
});

/** `quorate plan --offline --base <base> --format json` with extra flags, in the temp repo. */
const offlineJson = (...extra: string[]) =>
  cli(["plan", "--offline", "--base", base, "--format", "json", "--repo", repo.dir, ...extra], {
    cwd: repo.dir,
    env: env(),
  });

describe("quorate plan --offline", () => {
  it("plans against the base revision without AWS: a roll, no change, an orphan; exit 2", async () => {
    const result = await offlineJson("--detailed-exitcode");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(2);
    const plan = JSON.parse(result.stdout);
    expect(plan.source).toBe("offline");
    const byName = Object.fromEntries(
      plan.clusters.map((c: { cluster: string }) => [c.cluster, c]),
    );
    expect(byName.alpha.status).toBe("update");
    expect(byName.alpha.impact).toMatchObject({
      instancesReplaced: true,
      members: 3,
      order: "terminate-then-launch",
    });
    expect(byName.beta.status).toBe("no-change");
    expect(byName.gone.status).toBe("orphaned");
  });

  it("exits 0 when the base is the head", async () => {
    const result = await cli(
      ["plan", "--offline", "--base", "HEAD", "--detailed-exitcode", "--repo", repo.dir],
      { cwd: repo.dir, env: env() },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("0 to roll, 0 changed, 2 unchanged");
  });

  it("needs a base", async () => {
    const result = await cli(["plan", "--offline", "--repo", repo.dir], {
      cwd: repo.dir,
      env: { ...env(), GITHUB_BASE_REF: "" },
    });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain("--offline needs --base REF");
  });
});

describe("quorate plan --offline --cluster", () => {
  it("plans only the named cluster, and does not call the others removed", async () => {
    const result = await offlineJson("--cluster", "beta");
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(
      plan.clusters.map((c: { cluster: string; status: string }) => [c.cluster, c.status]),
    ).toEqual([["beta", "no-change"]]);
  });
});
