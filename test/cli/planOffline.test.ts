// quorate plan --offline: no AWS at all; the templates rendered at a base
// revision stand in for the live stacks (pull requests from forks).
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  it.each([
    ["relative", () => "clusters"],
    ["./relative", () => "./clusters"],
    ["with a trailing slash", () => "clusters/"],
    ["absolute", () => join(repo.dir, "clusters")],
  ])("reads the manifest directory given as a %s --path", async (_form, path) => {
    const byDefault = await offlineJson();
    const byPath = await offlineJson("--path", path());
    expect(byPath.stderr).toBe("");
    expect(byPath.code).toBe(byDefault.code);
    const clusters = (r: { stdout: string }) =>
      JSON.parse(r.stdout).clusters.map((c: { cluster: string; status: string }) => [
        c.cluster,
        c.status,
      ]);
    expect(clusters(byPath)).toEqual(clusters(byDefault));
    expect(clusters(byPath)).toContainEqual(["alpha", "update"]);
  });

  it("refuses a --path outside the repository, which has no base revision to read", async () => {
    const result = await offlineJson("--path", tmpdir());
    expect(result.code).toBe(64);
    expect(result.stderr).toContain(`--path ${tmpdir()} is outside the repository`);
  });

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
      order: "launch-then-terminate",
      faultTolerance: { resting: 1, duringRollout: 1 },
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

describe("quorate plan --offline: etcd's version rules, base against head", () => {
  let versions: ManifestRepo;
  let versionsBase: string;
  beforeAll(async () => {
    versions = await createManifestRepo({ prefix: "plan-offline-versions" });
    for (const name of ["skip", "step"]) {
      versions.write(name, { name, size: 3, spec: { etcd: { version: "3.4.23" } } });
    }
    versionsBase = await versions.commit("base: both on etcd 3.4.23");
    versions.update("skip", (m) => {
      m.spec.etcd.version = "3.6.5";
    });
    versions.update("step", (m) => {
      m.spec.etcd.version = "3.5.17";
    });
    await versions.commit("head: skip jumps to 3.6, step goes to 3.5");
  });
  afterAll(async () => {
    await versions?.close();
  });
  const plan = (format: string) =>
    cli(["plan", "--offline", "--base", versionsBase, "--format", format, "--repo", versions.dir], {
      cwd: versions.dir,
      env: { ...env(), XDG_CACHE_HOME: `${versions.dir}/.cache` },
    });

  it("3.4 → 3.6 fails at the manifest's file:line:col; 3.4 → 3.5 passes and states the step", async () => {
    const result = await plan("json");
    expect(result.code).toBe(1);
    const byName = Object.fromEntries(
      JSON.parse(result.stdout).clusters.map((c: { cluster: string }) => [c.cluster, c]),
    );
    // Where the head manifest writes the version, found in its text.
    const lines = readFileSync(join(versions.dir, versions.fileOf("skip")), "utf8").split("\n");
    const line = lines.findIndex((l) => /^\s+version: 3\.6\.5$/.test(l)) + 1;
    const column = (lines[line - 1] ?? "").indexOf("3.6.5") + 1;
    expect(line).toBeGreaterThan(0);
    expect(byName.skip.status).toBe("error");
    expect(byName.skip.error).toBe(
      `clusters/skip.yaml:${line}:${column}: spec.etcd.version: etcd 3.4.23 → 3.6.5 skips 3.5: etcd upgrades one minor version at a time, and a 3.6 member cannot join a cluster whose version is 3.4: step through 3.5 first: set spec.etcd.version to 3.5.26, apply and let the rollout finish, then set it to 3.6.5`,
    );
    expect(byName.skip.etcdVersion).toMatchObject({ allowed: false, rule: "minor-skip" });
    expect(byName.step.status).toBe("update");
    expect(byName.step.impact.instancesReplaced).toBe(true);
    expect(byName.step.etcdVersion).toEqual({
      from: "3.4.23",
      to: "3.5.17",
      allowed: true,
      step: "minor-upgrade",
      message:
        "etcd 3.4.23 → 3.5.17: the cluster version moves to 3.5 when the last member is replaced; no way back after that",
    });
  });

  it("the text plan says both", async () => {
    const result = await plan("text");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("clusters/skip.yaml:");
    expect(result.stdout).toContain(
      "etcd: etcd 3.4.23 → 3.5.17: the cluster version moves to 3.5 when the last member is replaced; no way back after that",
    );
  });
});
