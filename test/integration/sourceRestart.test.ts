// A quorate restarted while the remote is unreachable still knows the last
// revision it accepted, so it can keep supervising rollouts from its manifests.
import { rename } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSource } from "../../src/source/git.js";
import { commit, createRemote, removeDir, tempDir } from "../source/gitRepos.js";

let root: string;
beforeAll(async () => {
  root = await tempDir("source-restart");
});
afterAll(async () => {
  await removeDir(root);
});

describe("the last good revision", () => {
  it("survives a restart during an outage", async () => {
    const { remote, work } = await createRemote(root);
    const sha = await commit(work, { "clusters/a.yaml": "kind: EtcdCluster\n" }, "first", {
      push: true,
    });
    const cacheDir = join(root, "cache");
    const first = await createGitSource({ repo: remote, branch: "main", cacheDir }).sync();
    expect(first.ok && first.revision).toBe(sha);

    await rename(remote, `${remote}.gone`);
    const restarted = createGitSource({ repo: remote, branch: "main", cacheDir });
    const result = await restarted.sync();
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe("unreachable");
    expect(result.lastGood?.revision).toBe(sha);
    expect(result.message).toContain(`Keeping the last good revision ${sha.slice(0, 12)}`);
    expect(restarted.lastGood()?.revision).toBe(sha);

    await rename(`${remote}.gone`, remote);
    const back = await restarted.sync();
    expect(back.ok && back.revision).toBe(sha);
  });

  it("is not made up when nothing was ever accepted", async () => {
    const source = createGitSource({
      repo: join(root, "nowhere.git"),
      branch: "main",
      cacheDir: join(root, "cache-empty"),
    });
    const result = await source.sync();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.lastGood).toBeUndefined();
  });
});
