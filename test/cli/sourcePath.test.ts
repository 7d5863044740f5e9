// --path of `reconcile` and `run` names the manifests inside quorate's own
// checkout of the repository. An absolute --path once named this machine's disk
// instead: the pass read whatever was there, not the commit. Now an absolute
// path inside a local --repo becomes relative to its root, and one outside it
// (or any absolute path with a remote --repo) is a usage error.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathInRepo } from "../../src/cli/sourceFlags.js";
import { git, removeDir, tempDir } from "../source/gitRepos.js";
import { cli } from "./run.js";

let repo: string;
let elsewhere: string;
beforeAll(async () => {
  repo = await tempDir("source-path");
  elsewhere = await tempDir("source-path-elsewhere");
  await git(repo, ["init", "--quiet", "--initial-branch", "main"]);
  mkdirSync(join(repo, "clusters"));
});
afterAll(async () => {
  await removeDir(repo);
  await removeDir(elsewhere);
});

describe("pathInRepo", () => {
  it("makes an absolute path inside the repository relative to its root", () => {
    expect(pathInRepo(repo, join(repo, "clusters"))).toBe("clusters");
    expect(pathInRepo(repo, join(repo, "envs", "prod"))).toBe(join("envs", "prod"));
    expect(pathInRepo(repo, repo)).toBe(".");
    expect(pathInRepo(repo, "clusters")).toBe("clusters");
  });

  it("refuses a path outside it, absolute or climbing out", () => {
    expect(() => pathInRepo(repo, elsewhere)).toThrow(/--path .* is outside the repository/);
    expect(() => pathInRepo(repo, "../other")).toThrow(/is outside the repository/);
  });
});

describe("reconcile --once with a --path outside the repository", () => {
  it("is a usage error (64) before anything is read", async () => {
    const run = await cli([
      "reconcile",
      "--once",
      "--repo",
      repo,
      "--path",
      elsewhere,
      "--endpoint",
      "http://127.0.0.1:9",
    ]);
    expect(run.code, run.stderr).toBe(64);
    expect(run.stderr).toContain(`--path ${elsewhere} is outside the repository ${repo}`);
  });

  it("with a remote --repo, refuses an absolute --path", async () => {
    const run = await cli([
      "reconcile",
      "--once",
      "--repo",
      "https://git.invalid/manifests.git",
      "--path",
      elsewhere,
      "--endpoint",
      "http://127.0.0.1:9",
    ]);
    expect(run.code, run.stderr).toBe(64);
    expect(run.stderr).toContain(`--path ${elsewhere} is not inside the repository`);
  });
});
