// How a change reaches a pass in the daemon: a push through the signed
// webhook, or a commit in a watched working directory, wakes the trigger
// queue, and the pass that follows syncs exactly the new commit. Polling is
// off, so nothing but the webhook or the watch can start these passes.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createGitSource, type GitSource } from "../../src/source/git.js";
import { createTriggers, type TriggerReason, type Triggers } from "../../src/source/triggers.js";
import type { SourceResult } from "../../src/source/types.js";
import { type DirectoryWatch, touchesGitRefs, watchDirectory } from "../../src/source/watch.js";
import {
  signWebhookBody,
  startWebhookServer,
  type WebhookServer,
} from "../../src/source/webhook.js";
import { waitFor } from "../helpers/waitFor.js";
import {
  commit,
  createRemote,
  git,
  type RemoteAndClone,
  removeDir,
  tempDir,
} from "../source/gitRepos.js";

const SECRET = "webhook-secret";

interface Pass {
  readonly reason: TriggerReason;
  readonly result: SourceResult;
}

/** The daemon's loop, reduced to what the source decides: wait, sync, record. */
function startLoop(triggers: Triggers, source: GitSource) {
  const passes: Pass[] = [];
  const controller = new AbortController();
  const done = (async () => {
    for (;;) {
      const reason = await triggers.next(controller.signal);
      passes.push({ reason, result: await source.sync(controller.signal) });
    }
  })().catch(() => undefined);
  return {
    passes,
    async stop() {
      controller.abort(new Error("test over"));
      await done;
    },
  };
}

function revisionOf(pass: Pass | undefined): string | undefined {
  return pass?.result.ok ? pass.result.revision : undefined;
}

let root: string;
let repos: RemoteAndClone;

beforeAll(async () => {
  root = await tempDir("source-triggers");
  repos = await createRemote(root);
  await commit(repos.work, { "clusters/dev.yaml": "size: 3\n" }, "Initial", { push: true });
});

afterAll(async () => {
  await removeDir(root);
});

describe("a push through the webhook", () => {
  let server: WebhookServer | undefined;
  let loop: ReturnType<typeof startLoop> | undefined;

  afterEach(async () => {
    await loop?.stop();
    await server?.close();
  });

  it("starts a pass at once, which syncs the pushed commit; a bad signature starts nothing", async () => {
    const triggers = createTriggers({ pollIntervalMs: 0 });
    const source = createGitSource({
      repo: repos.remote,
      branch: "main",
      cacheDir: join(root, "cache-webhook"),
    });
    const pushes: string[] = [];
    server = await startWebhookServer({
      secret: SECRET,
      onPush: (event) => {
        pushes.push(event.after);
        triggers.notify("webhook");
      },
    });
    loop = startLoop(triggers, source);
    await waitFor("the first pass", () => expect(loop?.passes).toHaveLength(1));

    const pushed = await commit(repos.work, { "clusters/dev.yaml": "size: 5\n" }, "Grow dev", {
      push: true,
    });
    const body = JSON.stringify({
      ref: "refs/heads/main",
      after: pushed,
      repository: { full_name: "acme/infra" },
    });
    const forged = await fetch(server.url, {
      method: "POST",
      body,
      headers: { "X-GitHub-Event": "push", "X-Hub-Signature-256": signWebhookBody("wrong", body) },
    });
    expect(forged.status).toBe(401);
    expect(pushes).toEqual([]);

    const genuine = await fetch(server.url, {
      method: "POST",
      body,
      headers: { "X-GitHub-Event": "push", "X-Hub-Signature-256": signWebhookBody(SECRET, body) },
    });
    expect(genuine.status).toBe(202);
    expect(pushes).toEqual([pushed]);
    await waitFor("the second pass", () => expect(loop?.passes).toHaveLength(2), {
      timeoutMs: 10_000,
    });
    expect(loop.passes[1]?.reason.sources).toEqual(["webhook"]);
    expect(revisionOf(loop.passes[1])).toBe(pushed);
  });
});

describe("a commit in a watched working directory", () => {
  let watcher: DirectoryWatch | undefined;
  let loop: ReturnType<typeof startLoop> | undefined;

  afterEach(async () => {
    await watcher?.close();
    await loop?.stop();
  });

  it("fires the watch through the branch ref, even when the files were already saved", async () => {
    await writeFile(join(repos.work, "clusters/dev.yaml"), "size: 7\n");
    await git(repos.work, ["add", "--all"]);
    const batches: string[][] = [];
    watcher = await watchDirectory(repos.work, {
      debounceMs: 50,
      onChange: (p) => void batches.push([...p]),
    });

    const committed = await commit(repos.work, {}, "Commit saved edits");
    await waitFor(
      "a batch touching the git refs",
      () => expect(batches.some((batch) => touchesGitRefs(batch))).toBe(true),
      {
        timeoutMs: 10_000,
      },
    );
    expect(batches.flat()).toContain(".git/refs/heads/main");
    expect(await git(repos.work, ["rev-parse", "refs/heads/main"])).toBe(committed);
  });

  it("starts a pass that syncs the new commit from the working directory", async () => {
    const triggers = createTriggers({ pollIntervalMs: 0 });
    const source = createGitSource({
      repo: repos.work,
      branch: "main",
      cacheDir: join(root, "cache-watch"),
    });
    watcher = await watchDirectory(repos.work, {
      debounceMs: 50,
      ignore: ["cache-watch"],
      onChange: (paths) => {
        if (touchesGitRefs(paths)) triggers.notify("watch");
      },
    });
    loop = startLoop(triggers, source);
    await waitFor("the first pass", () => expect(loop?.passes).toHaveLength(1));

    const committed = await commit(
      repos.work,
      { "clusters/dev.yaml": "size: 9\n" },
      "Grow dev again",
    );
    await waitFor(
      "a pass at the committed revision",
      () => expect(revisionOf(loop?.passes.at(-1))).toBe(committed),
      {
        timeoutMs: 10_000,
      },
    );
    expect(loop.passes.at(-1)?.reason.sources).toEqual(["watch"]);
  });
});
