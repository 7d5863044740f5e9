// Latency from a commit to the start of the pass that applies it (issue: at
// most 1 s), through (a) the GitHub webhook and (b) the file watch of a
// working directory, plus (c) the webhook with ssh signature verification on.
// Real git on loopback; the daemon loop is reduced to trigger -> sync.
// Baseline in the same run: the raw `git commit` + `git push` + `git fetch`
// a reconciler cannot avoid. Runs against dist/ (npm run build).
//
// "Start of pass" is when the trigger queue hands the daemon its next pass;
// "revision ready" is when that pass's sync has fetched, verified and checked
// out the new commit, i.e. when manifests can be read. GitHub's own delay
// between a push and the webhook delivery is outside quorate and not measured.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { machine, median, ms } from "./machine.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const COMMITS = 20;
const GOAL_MS = 1000;
const SECRET = "bench-secret";

const { createGitSource } = await import(join(ROOT, "dist/source/git.js"));
const { createTriggers } = await import(join(ROOT, "dist/source/triggers.js"));
const { touchesGitRefs, watchDirectory } = await import(join(ROOT, "dist/source/watch.js"));
const { signWebhookBody, startWebhookServer } = await import(join(ROOT, "dist/source/webhook.js"));

const run = promisify(execFile);
const ENV = { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
const IDENTITY = ["-c", "user.name=Bench", "-c", "user.email=bench@quorate.invalid"];

async function git(cwd, args) {
  const { stdout } = await run("git", [...IDENTITY, ...args], { cwd, env: ENV });
  return stdout.trim();
}

/** The daemon's loop: wait for a trigger, sync, note when each happened. */
function startLoop(triggers, source) {
  const passes = [];
  const controller = new AbortController();
  const done = (async () => {
    for (;;) {
      const reason = await triggers.next(controller.signal);
      const startedAt = performance.now();
      const result = await source.sync(controller.signal);
      passes.push({ reason, startedAt, readyAt: performance.now(), result });
    }
  })().catch(() => undefined);
  return {
    async passFor(revision) {
      for (;;) {
        const pass = passes.find((p) => p.result.ok && p.result.revision === revision);
        if (pass) return pass;
        const refused = passes.find((p) => !p.result.ok && p.result.refusedRevision === revision);
        if (refused) throw new Error(refused.result.message);
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    async stop() {
      controller.abort(new Error("bench over"));
      await done;
    },
  };
}

function summary(values) {
  return { medianMs: median(values), maxMs: Math.max(...values), minMs: Math.min(...values) };
}

async function initRepos(root) {
  const remote = join(root, "remote.git");
  const work = join(root, "work");
  await mkdir(root, { recursive: true });
  await git(root, ["init", "--quiet", "--bare", remote]);
  await git(root, ["init", "--quiet", "-b", "main", work]);
  await git(work, ["remote", "add", "origin", remote]);
  await writeFile(join(work, "cluster.yaml"), "size: 3\n");
  await git(work, ["add", "--all"]);
  await git(work, ["commit", "--quiet", "-m", "initial"]);
  await git(work, ["push", "--quiet", "origin", "main"]);
  return { remote, work };
}

/** Save and stage a change, so that what is timed next starts at `git commit`. */
async function stageChange(work, i) {
  await writeFile(join(work, "cluster.yaml"), `size: 3\n# ${i}\n`);
  await git(work, ["add", "--all"]);
}

/** Raw git: commit, push, and a fetch into a separate bare mirror. */
async function baseline(root) {
  const { remote, work } = await initRepos(join(root, "baseline"));
  const mirror = join(root, "baseline", "mirror.git");
  await git(root, ["init", "--quiet", "--bare", mirror]);
  const commitMs = [];
  const pushMs = [];
  const fetchMs = [];
  const totalMs = [];
  for (let i = 0; i < COMMITS; i++) {
    await stageChange(work, i);
    const t0 = performance.now();
    await git(work, ["commit", "--quiet", "-m", `change ${i}`]);
    const t1 = performance.now();
    await git(work, ["push", "--quiet", "origin", "main"]);
    const t2 = performance.now();
    await git(mirror, ["fetch", "--quiet", remote, "+refs/heads/main:refs/heads/main"]);
    const t3 = performance.now();
    commitMs.push(t1 - t0);
    pushMs.push(t2 - t1);
    fetchMs.push(t3 - t2);
    totalMs.push(t3 - t0);
  }
  return {
    gitCommit: summary(commitMs),
    gitPush: summary(pushMs),
    gitFetch: summary(fetchMs),
    commitPushFetch: summary(totalMs),
  };
}

async function throughWebhook(root, name, options = {}) {
  const { remote, work } = await initRepos(join(root, name));
  const triggers = createTriggers({ pollIntervalMs: 0 });
  const source = createGitSource({
    repo: remote,
    branch: "main",
    cacheDir: join(root, name, "cache"),
    verify: options.verify,
  });
  const server = await startWebhookServer({
    secret: SECRET,
    onPush: () => triggers.notify("webhook"),
  });
  const sign = options.signWith ? ["-S"] : [];
  if (options.signWith) {
    await git(work, ["config", "gpg.format", "ssh"]);
    await git(work, ["config", "user.signingkey", options.signWith]);
    await git(work, ["commit", "--quiet", "--allow-empty", ...sign, "-m", "signed start"]);
    await git(work, ["push", "--quiet", "origin", "main"]);
  }
  const loop = startLoop(triggers, source);
  const startMs = [];
  const readyMs = [];
  const quorateMs = [];
  try {
    await loop.passFor(await git(work, ["rev-parse", "HEAD"]));
    for (let i = 0; i < COMMITS; i++) {
      await stageChange(work, i);
      const t0 = performance.now();
      await git(work, ["commit", "--quiet", ...sign, "-m", `change ${i}`]);
      await git(work, ["push", "--quiet", "origin", "main"]);
      const sha = await git(work, ["rev-parse", "HEAD"]);
      const body = JSON.stringify({
        ref: "refs/heads/main",
        after: sha,
        repository: { full_name: "bench/infra" },
      });
      const sentAt = performance.now();
      const response = await fetch(server.url, {
        method: "POST",
        body,
        headers: {
          "Content-Type": "application/json",
          "X-GitHub-Event": "push",
          "X-Hub-Signature-256": signWebhookBody(SECRET, body),
        },
      });
      if (response.status !== 202) throw new Error(`webhook answered ${response.status}`);
      const pass = await loop.passFor(sha);
      startMs.push(pass.startedAt - t0);
      readyMs.push(pass.readyAt - t0);
      quorateMs.push(pass.startedAt - sentAt);
    }
  } finally {
    await loop.stop();
    await server.close();
  }
  return {
    commitToPassStart: summary(startMs),
    commitToRevisionReady: summary(readyMs),
    webhookSentToPassStart: summary(quorateMs),
  };
}

async function throughWatch(root) {
  const { work } = await initRepos(join(root, "watch"));
  const triggers = createTriggers({ pollIntervalMs: 0 });
  const source = createGitSource({
    repo: work,
    branch: "main",
    cacheDir: join(root, "watch-cache"),
  });
  // Default debounce (100 ms), as `quorate run --watch` would use it. Only a
  // moved branch ref triggers: a sync applies committed state only.
  const watcher = await watchDirectory(work, {
    onChange: (paths) => {
      if (touchesGitRefs(paths)) triggers.notify("watch");
    },
  });
  const loop = startLoop(triggers, source);
  const startMs = [];
  const readyMs = [];
  try {
    await loop.passFor(await git(work, ["rev-parse", "HEAD"]));
    for (let i = 0; i < COMMITS; i++) {
      await stageChange(work, i);
      // Let the watch report the saved file (no pass: no ref moved) before the commit.
      await new Promise((r) => setTimeout(r, 250));
      const t0 = performance.now();
      await git(work, ["commit", "--quiet", "-m", `change ${i}`]);
      const sha = await git(work, ["rev-parse", "HEAD"]);
      const pass = await loop.passFor(sha);
      startMs.push(pass.startedAt - t0);
      readyMs.push(pass.readyAt - t0);
    }
  } finally {
    await watcher.close();
    await loop.stop();
  }
  return { commitToPassStart: summary(startMs), commitToRevisionReady: summary(readyMs) };
}

async function sshPolicy(root) {
  const key = join(root, "signer");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f", key]);
  const pub = (await run("ssh-keygen", ["-y", "-f", key])).stdout.trim();
  const allowedSigners = join(root, "allowed_signers");
  await writeFile(allowedSigners, `bench@quorate.invalid ${pub}\n`);
  return { key, policy: { mode: "ssh", allowedSigners } };
}

const root = mkdtempSync(join(tmpdir(), "quorate-bench-source-"));
try {
  const base = await baseline(root);
  const webhook = await throughWebhook(root, "webhook");
  const watch = await throughWatch(root);
  const { key, policy } = await sshPolicy(root);
  const signed = await throughWebhook(root, "webhook-ssh", { verify: policy, signWith: key });
  const result = {
    benchmark: "commit -> start of pass (source latency)",
    machine: machine(),
    commitsPerScenario: COMMITS,
    goalMs: GOAL_MS,
    baseline: base,
    webhook,
    watch,
    webhookWithSshVerification: signed,
  };
  console.log(JSON.stringify(result, null, 2));
  const line = (name, s) =>
    `${name}: commit -> pass start median ${ms(s.commitToPassStart.medianMs)}, max ${ms(s.commitToPassStart.maxMs)}; ` +
    `-> revision ready median ${ms(s.commitToRevisionReady.medianMs)}, max ${ms(s.commitToRevisionReady.maxMs)}`;
  console.error(
    [
      `baseline git commit+push+fetch: median ${ms(base.commitPushFetch.medianMs)}, max ${ms(base.commitPushFetch.maxMs)}`,
      line("webhook", webhook),
      line("watch", watch),
      line("webhook + ssh verify", signed),
      `goal: pass start <= ${GOAL_MS} ms`,
    ].join("\n"),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
