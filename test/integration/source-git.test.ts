// The git source against real git: a bare repository is the remote, a clone
// of it is the operator's working copy, the cache is a temp directory.
import { readFile, rename, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QuorateError } from "../../src/errors.js";
import { createGitSource } from "../../src/source/git.js";
import type { SourceResult } from "../../src/source/types.js";
import {
  commit,
  createRemote,
  git,
  listFiles,
  type RemoteAndClone,
  removeDir,
  TEST_AUTHOR,
  tempDir,
} from "../source/gitRepos.js";

const DEV = "apiVersion: quorate.dev/v1alpha1\nkind: EtcdCluster\nmetadata: {name: dev}\n";
const PROD = "apiVersion: quorate.dev/v1alpha1\nkind: EtcdCluster\nmetadata: {name: prod}\n";

function expectOk(result: SourceResult): Extract<SourceResult, { ok: true }> {
  if (!result.ok) throw new Error(`expected ok, got ${result.reason}: ${result.message}`);
  return result;
}

function expectFailure(result: SourceResult): Extract<SourceResult, { ok: false }> {
  if (result.ok) throw new Error(`expected a failure, got revision ${result.revision}`);
  return result;
}

let root: string;
let repos: RemoteAndClone;
let first: string;

beforeAll(async () => {
  root = await tempDir("source-git");
  repos = await createRemote(root);
  first = await commit(
    repos.work,
    { "clusters/dev.yaml": DEV, "clusters/prod.yaml": PROD, "README.md": "# infra\n" },
    "Add dev and prod clusters",
    { push: true },
  );
});

afterAll(async () => {
  await removeDir(root);
});

describe("syncing a remote branch", () => {
  it("clones, checks out exactly the head, and reports the same head as unchanged", async () => {
    const source = createGitSource({
      repo: repos.remote,
      branch: "main",
      cacheDir: join(root, "cache-a"),
    });

    const result = expectOk(await source.sync());
    expect(result).toMatchObject({
      revision: first,
      changed: true,
      subject: "Add dev and prod clusters",
      author: TEST_AUTHOR,
    });
    expect(result.committedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await listFiles(result.dir)).toEqual([
      "README.md",
      "clusters/dev.yaml",
      "clusters/prod.yaml",
    ]);
    expect(await git(result.dir, ["rev-parse", "HEAD"])).toBe(first);

    const again = expectOk(await source.sync());
    expect(again).toMatchObject({ revision: first, changed: false, dir: result.dir });
  });

  it("picks up a pushed commit, writes out its files exactly, and lists what changed", async () => {
    const source = createGitSource({
      repo: repos.remote,
      branch: "main",
      cacheDir: join(root, "cache-b"),
    });
    const before = expectOk(await source.sync());

    const second = await commit(
      repos.work,
      {
        "clusters/dev.yaml": `${DEV}spec: {size: 5}\n`,
        "clusters/prod.yaml": null,
        "docs/x.md": "x",
      },
      "Grow dev, drop prod",
      { push: true },
    );
    const after = expectOk(await source.sync());

    expect(after).toMatchObject({
      revision: second,
      changed: true,
      subject: "Grow dev, drop prod",
    });
    expect(after.dir).not.toBe(before.dir);
    expect(await listFiles(after.dir)).toEqual(["README.md", "clusters/dev.yaml", "docs/x.md"]);
    expect(await readFile(join(after.dir, "clusters/dev.yaml"), "utf8")).toContain("size: 5");
    // The previous checkout is kept: a pass may still be reading it.
    expect(await listFiles(before.dir)).toContain("clusters/prod.yaml");

    expect(await source.listChangedPaths(first, second)).toEqual([
      { path: "clusters/dev.yaml", change: "modified" },
      { path: "clusters/prod.yaml", change: "deleted" },
      { path: "docs/x.md", change: "added" },
    ]);
    expect(await source.listChangedPaths(first, second, { under: "clusters/" })).toEqual([
      { path: "clusters/dev.yaml", change: "modified" },
      { path: "clusters/prod.yaml", change: "deleted" },
    ]);

    expect(await source.readFileAtRevision(first, "clusters/prod.yaml")).toBe(PROD);
    expect(await source.readFileAtRevision(second, "./clusters/dev.yaml")).toContain("size: 5");
    expect(await source.readFileAtRevision(second, "clusters/prod.yaml")).toBeUndefined();
    expect(await source.readFileAtRevision(second, "clusters")).toBeUndefined();
  });

  it("follows the branch it is given, and says so when the branch does not exist", async () => {
    await git(repos.work, ["checkout", "--quiet", "-b", "staging"]);
    const staging = await commit(
      repos.work,
      { "clusters/staging.yaml": "x: 1\n" },
      "Staging only",
      {
        push: true,
      },
    );
    await git(repos.work, ["checkout", "--quiet", "main"]);

    const onStaging = createGitSource({
      repo: repos.remote,
      branch: "staging",
      cacheDir: join(root, "cache-c"),
    });
    const result = expectOk(await onStaging.sync());
    expect(result.revision).toBe(staging);
    expect(await listFiles(result.dir)).toContain("clusters/staging.yaml");

    const onMissing = createGitSource({
      repo: repos.remote,
      branch: "Main",
      cacheDir: join(root, "cache-c"),
    });
    const missing = expectFailure(await onMissing.sync());
    expect(missing.reason).toBe("branch-missing");
    expect(missing.message).toContain('Branch "Main" does not exist');
    expect(missing.lastGood).toBeUndefined();
  });

  it("rejects a branch name git would read as an option", () => {
    expect(() =>
      createGitSource({ repo: repos.remote, branch: "--upload-pack=x", cacheDir: root }),
    ).toThrow(QuorateError);
  });

  it("materializes another revision for a base to diff against, and keeps it", async () => {
    const source = createGitSource({
      repo: repos.remote,
      branch: "main",
      cacheDir: join(root, "cache-d"),
    });
    const head = expectOk(await source.sync());
    const base = await source.materializeRevision(first);
    expect(base.revision).toBe(first);
    expect(await listFiles(base.dir)).toContain("clusters/prod.yaml");
    // A branch the source has not fetched yet is fetched on demand.
    const staging = await source.materializeRevision("staging");
    expect(await listFiles(staging.dir)).toContain("clusters/staging.yaml");

    await commit(repos.work, { "clusters/dev.yaml": `${DEV}# 3\n` }, "Third", { push: true });
    expectOk(await source.sync());
    await commit(repos.work, { "clusters/dev.yaml": `${DEV}# 4\n` }, "Fourth", { push: true });
    expectOk(await source.sync());
    // Older sync checkouts are pruned (after a sync answers, before the next
    // operation on the cache starts); the base stays.
    expectOk(await source.sync());
    expect(await listFiles(base.dir)).toContain("clusters/prod.yaml");
    await expect(listFiles(head.dir)).rejects.toThrow();
  });

  it("replaces a checkout left altered in the cache by an earlier process", async () => {
    const cacheDir = join(root, "cache-e");
    const one = expectOk(
      await createGitSource({ repo: repos.remote, branch: "main", cacheDir }).sync(),
    );
    await writeFile(join(one.dir, "clusters", "stray.yaml"), "not in git\n");
    const two = expectOk(
      await createGitSource({ repo: repos.remote, branch: "main", cacheDir }).sync(),
    );
    expect(two.dir).toBe(one.dir);
    expect(await listFiles(two.dir)).not.toContain("clusters/stray.yaml");
  });

  it("reports a cache it cannot write to as checkout-failed, not as the remote's fault", async () => {
    const notADirectory = join(root, "cache-is-a-file");
    await writeFile(notADirectory, "");
    const source = createGitSource({ repo: repos.remote, branch: "main", cacheDir: notADirectory });
    const failed = expectFailure(await source.sync());
    expect(failed.reason).toBe("checkout-failed");
    expect(failed.message).toContain(`Cannot set up the cache in ${notADirectory}/`);
    expect(failed.message).toContain("ENOTDIR");
  });

  it("stops when the caller aborts", async () => {
    const source = createGitSource({ repo: repos.remote, branch: "main", cacheDir: root });
    await expect(source.sync(AbortSignal.abort(new Error("shutting down")))).rejects.toThrow(
      "shutting down",
    );
  });
});

describe("a local working directory as the source", () => {
  it("applies only committed state, never uncommitted or untracked edits", async () => {
    const dir = join(root, "local");
    await git(root, ["init", "--quiet", dir]);
    const committed = await commit(dir, { "clusters/dev.yaml": DEV }, "Local dev");
    await writeFile(join(dir, "clusters/dev.yaml"), `${DEV}spec: {size: 7}\n`);
    await writeFile(join(dir, "clusters/new.yaml"), PROD);

    const source = createGitSource({ repo: dir, branch: "main", cacheDir: join(root, "cache-f") });
    const result = expectOk(await source.sync());
    expect(result.revision).toBe(committed);
    expect(await listFiles(result.dir)).toEqual(["clusters/dev.yaml"]);
    expect(await readFile(join(result.dir, "clusters/dev.yaml"), "utf8")).toBe(DEV);

    const next = await commit(dir, {}, "Commit the edits");
    const after = expectOk(await source.sync());
    expect(after).toMatchObject({ revision: next, changed: true });
    expect(await listFiles(after.dir)).toEqual(["clusters/dev.yaml", "clusters/new.yaml"]);

    // Any revision expression of the working directory works as a plan base,
    // resolved as the working directory is now, not as it was at the last sync.
    const base = await source.materializeRevision("HEAD~1");
    expect(base.revision).toBe(committed);
    const unsynced = await commit(dir, { "clusters/dev.yaml": PROD }, "Not synced yet");
    expect((await source.materializeRevision("main")).revision).toBe(unsynced);
    await expect(source.materializeRevision("no-such-branch")).rejects.toThrow(
      /Cannot read no-such-branch in .*local/,
    );
  });
});

describe("an unreachable remote", () => {
  it("keeps the last good revision and says what failed and where", async () => {
    const moving = join(root, "moving.git");
    await git(root, ["clone", "--quiet", "--bare", repos.remote, moving]);
    const source = createGitSource({
      repo: moving,
      branch: "main",
      cacheDir: join(root, "cache-g"),
    });
    const good = expectOk(await source.sync());

    await rename(moving, `${moving}.gone`);
    const failed = expectFailure(await source.sync());
    expect(failed.reason).toBe("unreachable");
    expect(failed.lastGood).toEqual({ revision: good.revision, dir: good.dir });
    expect(failed.message).toContain(moving);
    expect(failed.message).toContain("does not appear to be a git repository");
    expect(failed.message).toContain(
      `Keeping the last good revision ${good.revision.slice(0, 12)}`,
    );
    expect(await listFiles(good.dir)).toContain("clusters/dev.yaml");

    await rename(`${moving}.gone`, moving);
    expect(expectOk(await source.sync())).toMatchObject({
      revision: good.revision,
      changed: false,
    });
  });

  it("never shows the credentials of the URL", async () => {
    const port = await closedPort();
    const source = createGitSource({
      repo: `http://quorate:s3cret-token@127.0.0.1:${port}/infra.git`,
      branch: "main",
      cacheDir: join(root, "cache-h"),
      git: { timeoutMs: 20_000 },
    });
    const failed = expectFailure(await source.sync());
    expect(failed.reason).toBe("unreachable");
    expect(failed.lastGood).toBeUndefined();
    expect(failed.message).toContain(`http://quorate:***@127.0.0.1:${port}/infra.git`);
    expect(failed.message).toContain("Nothing will be applied until a sync succeeds");
    expect(failed.message).not.toContain("s3cret");
    expect(source.display).not.toContain("s3cret");
  });
});

/** A loopback port nobody listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const address = server.address();
  await new Promise((closed) => server.close(closed));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
