// A force-push that rewinds the branch, against real git and ssh-keygen: the
// source notices that the head does not descend from the last good revision.
// Without verification it is accepted and the reconciler reports it (source
// status, log warning, counter); with --verify-signatures it is refused unless
// --allow-rewind, since an old signed commit pushed back is validly signed.
import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/cli/log.js";
import { logPass } from "../../src/cli/passLog.js";
import { createMetrics } from "../../src/reconcile/metrics.js";
import { createReconciler } from "../../src/reconcile/reconciler.js";
import { createGitSource } from "../../src/source/git.js";
import type { SignaturePolicy } from "../../src/source/signatures.js";
import {
  commit,
  createRemote,
  git,
  type RemoteAndClone,
  removeDir,
  type Signing,
  tempDir,
} from "./gitRepos.js";

const execFileAsync = promisify(execFile);
const short = (sha: string) => sha.slice(0, 12);

let root: string;
let count = 0;

/** A fresh remote and working copy in their own directory. */
async function repos(): Promise<RemoteAndClone> {
  count += 1;
  const dir = join(root, `repo-${count}`);
  await mkdir(dir);
  return createRemote(dir);
}

/** Moves the remote's main to `sha` the way a force-push does. */
async function forcePush(work: string, sha: string): Promise<void> {
  await git(work, ["reset", "--quiet", "--hard", sha]);
  await git(work, ["push", "--quiet", "--force", "origin", "HEAD"]);
}

beforeAll(async () => {
  root = await tempDir("source-rewind");
});

afterAll(async () => {
  await removeDir(root);
});

describe("without signature verification", () => {
  it("a fast-forward is not flagged", async () => {
    const { remote, work } = await repos();
    const source = createGitSource({ repo: remote, branch: "main", cacheDir: join(root, "ff") });
    await commit(work, { "clusters/a.yaml": "a: 1\n" }, "first", { push: true });
    expect((await source.sync()).ok).toBe(true);
    await commit(work, { "clusters/a.yaml": "a: 2\n" }, "second", { push: true });
    const third = await commit(work, { "clusters/a.yaml": "a: 3\n" }, "third", { push: true });
    const result = await source.sync();
    expect(result).toMatchObject({ ok: true, changed: true, revision: third });
    expect(result.ok && result.rewound).toBeUndefined();
  });

  it("a rewind is accepted, and the reconciler warns, counts it and reports BranchRewound", async () => {
    const { remote, work } = await repos();
    const cacheDir = join(root, "accepted");
    const base = await commit(work, { "clusters/.gitkeep": "" }, "base", { push: true });
    const dropped = await commit(work, { "README.md": "dropped\n" }, "to be dropped", {
      push: true,
    });
    const reconciler = createReconciler({
      source: createGitSource({
        repo: remote,
        branch: "main",
        cacheDir,
        manifestsPath: "clusters",
      }),
      path: "clusters",
      // No manifests: a pass reaches neither AWS nor the AMI feed.
      aws: () => {
        throw new Error("no AWS in this test");
      },
      amiFeed: { resolve: () => Promise.reject(new Error("no feed in this test")) },
      etcd: {},
      onEvent: () => {},
      waitForRollouts: true,
    });
    const metrics = createMetrics();
    const logged = new PassThrough();
    let log = "";
    logged.on("data", (chunk: Buffer) => {
      log += chunk.toString("utf8");
    });
    const logger = createLogger({ stream: logged, format: "json" });
    const pass = async () => {
      const summary = await reconciler.pass();
      metrics.observePass(summary);
      logPass(logger, summary);
      return summary;
    };
    const rewinds = async () =>
      (await metrics.registry.metrics())
        .split("\n")
        .find((line) => line.startsWith("quorate_source_rewinds_total "));

    expect((await pass()).revision).toBe(dropped);
    expect(await rewinds()).toBe("quorate_source_rewinds_total 0");

    // GIVEN the branch is force-pushed to a history without `dropped`
    await forcePush(work, base);
    const replaced = await commit(work, { "README.md": "other\n" }, "replaces it", { push: true });

    // WHEN a pass syncs THEN the rewound head is reconciled, with a warning
    const first = await pass();
    const message = `The head of "main", ${short(replaced)} ("replaces it" by Quorate Test <test@quorate.invalid>), does not descend from the last good revision ${short(dropped)}: the branch was rewound (force-pushed), and quorate now reconciles it. If that was a mistake, push the dropped commits (up to ${short(dropped)}) back onto the branch.`;
    expect(first.revision).toBe(replaced);
    expect(first.rewound).toEqual({ from: dropped, to: replaced, message });
    expect(first.source).toMatchObject({
      ok: true,
      revision: replaced,
      reason: "BranchRewound",
      message,
    });
    expect(await rewinds()).toBe("quorate_source_rewinds_total 1");
    const warning = log
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === "git branch rewound; reconciling the rewound head");
    expect(warning).toMatchObject({
      level: "warn",
      repo: remote,
      reason: "BranchRewound",
      from: short(dropped),
      to: short(replaced),
      message,
    });

    // The status says so while that head is reconciled; the counter counted it once.
    const again = await pass();
    expect(again.rewound).toBeUndefined();
    expect(again.source.reason).toBe("BranchRewound");
    expect(await rewinds()).toBe("quorate_source_rewinds_total 1");

    // A commit on top of it is an ordinary fast-forward again.
    const next = await commit(work, { "README.md": "next\n" }, "next", { push: true });
    const moved = await pass();
    expect(moved.revision).toBe(next);
    expect(moved.rewound).toBeUndefined();
    expect(moved.source.reason).toBeUndefined();
    expect(await rewinds()).toBe("quorate_source_rewinds_total 1");
  });
});

describe("with --verify-signatures (ssh)", () => {
  let alice: Signing;
  let policy: SignaturePolicy;

  beforeAll(async () => {
    const key = join(root, "alice");
    await execFileAsync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "alice", "-f", key]);
    alice = { format: "ssh", key };
    const pub = (await execFileAsync("ssh-keygen", ["-y", "-f", key])).stdout.trim();
    const allowedSigners = join(root, "allowed_signers");
    await writeFile(allowedSigners, `alice@example.com ${pub}\n`);
    policy = { mode: "ssh", allowedSigners };
  });

  it("a rewind to an old signed commit is refused, until a commit on top of the last good one or --allow-rewind", async () => {
    const { remote, work } = await repos();
    const cacheDir = join(root, "verified");
    const open = (allowRewind = false) =>
      createGitSource({ repo: remote, branch: "main", cacheDir, verify: policy, allowRewind });
    const old = await commit(work, { "clusters/a.yaml": "size: 3\n" }, "old", {
      sign: alice,
      push: true,
    });
    const good = await commit(work, { "clusters/a.yaml": "size: 5\n" }, "good", {
      sign: alice,
      push: true,
    });
    const source = open();
    expect(await source.sync()).toMatchObject({ ok: true, revision: good });

    // GIVEN the branch is force-pushed back to `old`, signed by a trusted key
    await forcePush(work, old);

    // WHEN synced THEN it is refused: the message says rewound, both shas and what to do
    const refused = await source.sync();
    expect(refused).toMatchObject({
      ok: false,
      reason: "rewound",
      refusedRevision: old,
      lastGood: { revision: good },
    });
    if (refused.ok) return;
    expect(refused.message).toBe(
      `The head of "main", ${short(old)} ("old" by Quorate Test <test@quorate.invalid>), does not descend from the last good revision ${short(good)}: the branch was rewound (force-pushed), so it will not be applied. Push a commit on top of ${short(good)}, or restart quorate with --allow-rewind to accept the rewound branch. Keeping the last good revision ${short(good)}.`,
    );
    expect(source.lastGood()?.revision).toBe(good);

    // A restart without --allow-rewind still knows the last good revision, and still refuses.
    expect(await open().sync()).toMatchObject({ ok: false, reason: "rewound" });

    // A signed commit on top of the last good one is taken as a fast-forward.
    await forcePush(work, good);
    const onTop = await commit(work, { "clusters/a.yaml": "size: 7\n" }, "on top", {
      sign: alice,
      push: true,
    });
    const taken = await source.sync();
    expect(taken).toMatchObject({ ok: true, revision: onTop });
    expect(taken.ok && taken.rewound).toBeUndefined();

    // Rewound again, and restarted with --allow-rewind: accepted, and flagged.
    await forcePush(work, old);
    expect(await source.sync()).toMatchObject({ ok: false, reason: "rewound" });
    const allowed = await open(true).sync();
    expect(allowed).toMatchObject({
      ok: true,
      revision: old,
      signer: "alice@example.com",
      rewound: { from: onTop },
    });
    if (allowed.ok) expect(allowed.rewound?.message).toMatch(/the branch was rewound/);
  });

  it("an unsigned rewound head is refused as unsigned: the signature is checked first", async () => {
    const { remote, work } = await repos();
    const source = createGitSource({
      repo: remote,
      branch: "main",
      cacheDir: join(root, "unsigned"),
      verify: policy,
      allowRewind: true,
    });
    const base = await commit(work, { "clusters/a.yaml": "a: 1\n" }, "base", {
      sign: alice,
      push: true,
    });
    await commit(work, { "clusters/a.yaml": "a: 2\n" }, "good", { sign: alice, push: true });
    expect((await source.sync()).ok).toBe(true);
    await forcePush(work, base);
    const unsigned = await commit(work, { "clusters/a.yaml": "a: 9\n" }, "unsigned", {
      push: true,
    });
    expect(await source.sync()).toMatchObject({
      ok: false,
      reason: "unsigned",
      refusedRevision: unsigned,
    });
  });
});
