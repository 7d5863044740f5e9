// A head without the manifests directory, against real git: it is refused,
// and the last good revision (in memory and on disk) stays where it was, so
// that a quorate restarted after such a commit still has manifests to
// supervise from.
import { mkdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSource } from "../../src/source/git.js";
import { commit, createRemote, git, type RemoteAndClone, removeDir, tempDir } from "./gitRepos.js";

const DEV = "apiVersion: quorate.dev/v1alpha1\nkind: EtcdCluster\nmetadata: {name: dev}\n";

let root: string;
let repos: RemoteAndClone;

beforeAll(async () => {
  root = await tempDir("source-path-missing");
  repos = await createRemote(root);
});

afterAll(async () => {
  await removeDir(root);
});

describe("a head whose --path directory is missing", () => {
  it("is refused, keeps the last good revision across a restart, and a later good commit is taken", async () => {
    const cacheDir = join(root, "cache");
    const open = () =>
      createGitSource({ repo: repos.remote, branch: "main", cacheDir, manifestsPath: "clusters" });
    const good = await commit(repos.work, { "clusters/dev.yaml": DEV }, "Add dev", { push: true });
    const source = open();
    expect(await source.sync()).toMatchObject({ ok: true, revision: good });

    // GIVEN a commit that moves the directory away
    await git(repos.work, ["mv", "clusters", "etcd"]);
    const moved = await commit(repos.work, {}, "Move the manifests", { push: true });

    // WHEN it is synced THEN it is refused, naming the head, the path and what is kept
    const refused = await source.sync();
    expect(refused).toMatchObject({
      ok: false,
      reason: "path-missing",
      refusedRevision: moved,
      lastGood: { revision: good },
    });
    if (refused.ok) return;
    expect(refused.message).toBe(
      `The head of "main", ${moved.slice(0, 12)} ("Move the manifests" by Quorate Test <test@quorate.invalid>), has no clusters, so it is refused: nothing was applied or pruned. Restore the directory in git, or fix --path if the manifests moved; to delete every cluster, keep the directory (a .gitkeep) and delete the manifests in it. Keeping the last good revision ${good.slice(0, 12)}.`,
    );
    expect(source.lastGood()?.revision).toBe(good);
    expect((await stat(join(refused.lastGood?.dir ?? "", "clusters/dev.yaml"))).isFile()).toBe(
      true,
    );

    // A restart reads the last good revision from disk: still the one before.
    const restarted = open();
    expect(await restarted.sync()).toMatchObject({
      ok: false,
      reason: "path-missing",
      lastGood: { revision: good },
    });

    // A commit that deletes the directory outright is refused the same way.
    await git(repos.work, ["rm", "-r", "--quiet", "etcd"]);
    const deleted = await commit(repos.work, {}, "Delete every manifest", { push: true });
    expect(await restarted.sync()).toMatchObject({
      ok: false,
      reason: "path-missing",
      refusedRevision: deleted,
      lastGood: { revision: good },
    });

    // THEN a commit that restores it is picked up as usual.
    const back = await commit(repos.work, { "clusters/dev.yaml": DEV }, "Restore", { push: true });
    expect(await restarted.sync()).toMatchObject({ ok: true, changed: true, revision: back });
    expect(restarted.lastGood()?.revision).toBe(back);
    expect(await open().sync()).toMatchObject({ ok: true, revision: back });
  });

  it("refuses the very first head too, with nothing to keep", async () => {
    await mkdir(join(root, "first"));
    const { remote, work } = await createRemote(join(root, "first"));
    const sha = await commit(work, { "README.md": "# infra\n" }, "No manifests yet", {
      push: true,
    });
    const source = createGitSource({
      repo: remote,
      branch: "main",
      cacheDir: join(root, "cache-first"),
      manifestsPath: "clusters",
    });
    const result = await source.sync();
    expect(result).toMatchObject({ ok: false, reason: "path-missing", refusedRevision: sha });
    if (result.ok) return;
    expect(result.lastGood).toBeUndefined();
    expect(result.message).toMatch(/Nothing will be applied until a sync succeeds\.$/);
  });
});
