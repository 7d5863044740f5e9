import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cli } from "./run.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FEED = {
  ...process.env,
  QUORATE_AMI_FEED: "test/fixtures/flatcar",
  XDG_CACHE_HOME: "/tmp/quorate-test-cache",
};

describe("quorate validate", () => {
  it("accepts updatePolicy.order terminateFirst with a warning that names its cost", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quorate-tf-"));
    const text = readFileSync(join(ROOT, "clusters/dev.yaml"), "utf8").replace(
      "  updatePolicy:\n",
      "  updatePolicy:\n    order: terminateFirst\n",
    );
    writeFileSync(join(dir, "dev.yaml"), text);
    const result = await cli(["validate", join(dir, "dev.yaml")], { cwd: ROOT });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `warning: ${join(dir, "dev.yaml")}:6:1: cluster dev: updatePolicy.order is terminateFirst: while each member is replaced the cluster runs on 2 voters and tolerates 0 failures instead of 1`,
    );
  });

  it("exits 0 on the examples and names them", async () => {
    const result = await cli(["validate", "clusters/"], { cwd: ROOT });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe("2 cluster(s) valid in 2 file(s): dev, prod\n");
  });

  it("exits 1 with five located errors for a file with five mistakes, and no stack trace", async () => {
    const result = await cli(["validate", "test/fixtures/manifests/invalid/five-mistakes.yaml"], {
      cwd: ROOT,
    });
    expect(result.code).toBe(1);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(6);
    for (const line of lines.slice(0, 5)) {
      expect(line).toMatch(
        /^test\/fixtures\/manifests\/invalid\/five-mistakes\.yaml:\d+:\d+: spec\./,
      );
    }
    expect(lines[5]).toBe("5 error(s) in 1 file(s)");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("reports every file's errors in one run and as JSON for scripts", async () => {
    const result = await cli(
      ["validate", "clusters", "test/fixtures/manifests/invalid", "--format", "json"],
      { cwd: ROOT },
    );
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.valid).toBe(false);
    expect(report.clusters.map((c: { name: string }) => c.name)).toEqual(["dev", "prod"]);
    expect(report.errors).toHaveLength(5);
    expect(report.errors[0]).toMatchObject({
      file: "test/fixtures/manifests/invalid/five-mistakes.yaml",
      line: 8,
      column: 9,
      path: "spec.size",
      rule: "schema.enum",
      cluster: "broken",
    });
  });

  it("says so when a path has no manifests or does not exist", async () => {
    const missing = await cli(["validate", "no-such-dir"], { cwd: ROOT });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no-such-dir does not exist");
    const empty = await cli(["validate", "src/cli"], { cwd: ROOT });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("no manifests found");
  });

  it("rejects an unknown flag as a usage error (64)", async () => {
    const result = await cli(["validate", "--frmat", "json"], { cwd: ROOT });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain("--frmat");
  });
});

describe("quorate render", () => {
  it("prints the template, and the same bytes every time", async () => {
    const first = await cli(["render", "dev"], { cwd: ROOT, env: FEED });
    const second = await cli(["render", "clusters/dev.yaml"], { cwd: ROOT, env: FEED });
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const template = JSON.parse(first.stdout);
    expect(template.Resources.EtcdGroup.Type).toBe("AWS::AutoScaling::AutoScalingGroup");
  });

  it("names the unknown cluster and lists the known ones, as a usage error", async () => {
    const result = await cli(["render", "staging"], { cwd: ROOT, env: FEED });
    expect(result.code).toBe(64);
    expect(result.stderr).toBe(
      "quorate render: no cluster named staging: the manifests declare dev, prod; or give a manifest file\n",
    );
  });

  it.each([
    ["relative", "clusters/dev.yaml"],
    ["./relative", "./clusters/dev.yaml"],
    ["absolute", join(ROOT, "clusters", "dev.yaml")],
  ])("renders a manifest file given as a %s path", async (_form, file) => {
    const byName = await cli(["render", "dev"], { cwd: ROOT, env: FEED });
    const byFile = await cli(["render", file], { cwd: ROOT, env: FEED });
    expect(byFile.stderr).toBe("");
    expect(byFile.code).toBe(0);
    expect(byFile.stdout).toBe(byName.stdout);
  });

  it("says which feed lacks the version", async () => {
    const result = await cli(["render", "dev", "--ami-feed", "/nonexistent-feed"], {
      cwd: ROOT,
      env: FEED,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/4081\.2\.0/);
    expect(result.stderr).toMatch(/nonexistent-feed/);
  });

  it("shows every default with --output spec", async () => {
    const result = await cli(["render", "dev", "--output", "spec"], { cwd: ROOT });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("minInstancesInService: 3");
    expect(result.stdout).toContain("order: launchFirst");
    expect(result.stdout).toContain("stackName: quorate-dev");
  });
});

describe("./bin/quorate", () => {
  it("renders dev byte-identically across two processes", () => {
    const run = () =>
      execFileSync("./bin/quorate", ["render", "dev"], { cwd: ROOT, env: FEED, encoding: "utf8" });
    expect(run()).toBe(run());
  });

  it("has --help on every command and --version", { timeout: 60_000 }, () => {
    const top = spawnSync("./bin/quorate", ["--help"], { cwd: ROOT, encoding: "utf8" });
    expect(top.status).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
    expect(commands).toEqual(expect.arrayContaining(["validate", "render"]));
    for (const command of commands) {
      const help = spawnSync("./bin/quorate", [command, "--help"], { cwd: ROOT, encoding: "utf8" });
      expect(help.status, command).toBe(0);
      expect(help.stdout, command).toMatch(/^Usage: quorate /);
      expect(help.stdout, command).toContain("Exit codes:");
    }
    const version = spawnSync("./bin/quorate", ["--version"], { cwd: ROOT, encoding: "utf8" });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
