// The GitOps loop as a daemon (issue 6), on the local cloud with real git and
// etcd: a push signalled through the webhook starts a pass at once (a forged
// one gets 401); with signature verification an unsigned head is never
// applied; and `quorate run` killed mid-rollout finishes it when started
// again, executing nothing twice.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { describeStack } from "../../src/aws/stacks.js";
import { runDaemon } from "../../src/cli/daemon.js";
import { createLogger } from "../../src/cli/log.js";
import { createReconciler, type Reconciler } from "../../src/reconcile/reconciler.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { createGitSource } from "../../src/source/git.js";
import { signWebhookBody } from "../../src/source/webhook.js";
import { clusterManifest } from "../helpers/manifestRepo.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";
import { commit, createRemote, removeDir, tempDir } from "../source/gitRepos.js";

const execFileAsync = promisify(execFile);
const MAIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;

let h: Harness;
let root: string;
beforeAll(async () => {
  h = await startHarness();
  root = await tempDir("gitops-daemon");
});
afterAll(async () => {
  await h?.close();
  await removeDir(root);
});

async function remoteIn(name: string) {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  return createRemote(dir);
}

const manifest = (name: string, extra: Parameters<typeof clusterManifest>[0] = { name }) =>
  stringify(clusterManifest({ ...extra, name }));

function reconcilerFor(
  remote: string,
  cacheDir: string,
  verify?: Parameters<typeof createGitSource>[0]["verify"],
) {
  return (onEvent: Parameters<typeof createReconciler>[0]["onEvent"]) =>
    createReconciler({
      source: createGitSource({
        repo: remote,
        branch: "main",
        cacheDir,
        ...(verify ? { verify } : {}),
      }),
      path: "clusters",
      aws: h.aws,
      amiFeed: createAmiFeed({
        source: `${h.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
      }),
      etcd: {},
      onEvent,
      waitForRollouts: false,
      tickMs: 200,
      heartbeatEveryMs: 1000,
    });
}

describe("the webhook", () => {
  it("starts a pass at once on a signed push, and refuses a forged one with 401", async () => {
    const { remote, work } = await remoteIn("webhook");
    await commit(work, { "clusters/wh.yaml": manifest("wh") }, "Add wh", { push: true });
    const stop = new AbortController();
    let reconciler: Reconciler | undefined;
    let url = "";
    // What happened, in order: the test's requests and the passes' starts and ends.
    const record: string[] = [];
    const daemon = runDaemon({
      reconciler: (onEvent) => {
        const inner = reconcilerFor(remote, join(root, "webhook-cache"))(onEvent);
        reconciler = {
          ...inner,
          pass: async (signal) => {
            record.push("pass started");
            try {
              return await inner.pass(signal);
            } finally {
              record.push("pass done");
            }
          },
        };
        return reconciler;
      },
      branch: "main",
      log: createLogger({ stream: process.stderr, format: "json", level: "error" }),
      pollIntervalMs: 600_000,
      listen: { host: "127.0.0.1", port: 0 },
      webhookSecret: "s3cret",
      signal: stop.signal,
      onListening: (u) => {
        url = u;
      },
    });
    const wh = () => reconciler?.statuses().find((s) => s.cluster === "wh");
    try {
      await waitFor("wh created", () => expect(wh()?.stackStatus).toBe("CREATE_COMPLETE"), {
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      const sha = await commit(
        work,
        { "clusters/wh.yaml": manifest("wh", { name: "wh", spec: { tags: { team: "blue" } } }) },
        "Tag wh",
        { push: true },
      );
      const body = JSON.stringify({
        ref: "refs/heads/main",
        after: sha,
        repository: { full_name: "acme/clusters" },
      });
      const post = (signature: string) =>
        fetch(`${url}/hooks/github`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-github-event": "push",
            "x-hub-signature-256": signature,
          },
          body,
        });

      record.length = 0;
      record.push("forged sent");
      const forged = await post(signWebhookBody("wrong", body));
      expect(forged.status).toBe(401);

      const sent = Date.now();
      record.push("signed sent");
      expect((await post(signWebhookBody("s3cret", body))).status).toBe(202);
      // The poll interval is ten minutes: only the webhook can have started this pass.
      await waitFor("the pushed commit observed", () => expect(wh()?.observedRevision).toBe(sha), {
        timeoutMs: 10_000,
        intervalMs: 50,
      });
      expect(Date.now() - sent).toBeLessThan(600_000);
      // A pass the forged push had started would be in the record before the
      // first pass done after the signed push (passes run one at a time): only
      // the signed push's pass is.
      await waitFor("the signed push's pass done", () =>
        expect(record.slice(record.indexOf("signed sent"))).toContain("pass done"),
      );
      expect(record.slice(0, record.indexOf("pass done") + 1)).toEqual([
        "forged sent",
        "signed sent",
        "pass started",
        "pass done",
      ]);
      await waitFor(
        "the pushed commit applied",
        () => expect(wh()?.lastAppliedRevision).toBe(sha),
        {
          timeoutMs: 60_000,
          intervalMs: 200,
        },
      );
    } finally {
      stop.abort();
      await daemon;
    }
  });
});

describe("signature verification", () => {
  it("refuses an unsigned head and applies nothing from it", async () => {
    const { remote, work } = await remoteIn("signed");
    const key = join(root, "signer");
    await execFileAsync("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "ops@example.com",
      "-f",
      key,
    ]);
    const allowedSigners = join(root, "allowed_signers");
    await writeFile(
      allowedSigners,
      `ops@example.com ${(await execFileAsync("ssh-keygen", ["-y", "-f", key])).stdout.trim()}\n`,
    );
    const signed = await commit(
      work,
      { "clusters/sig.yaml": manifest("sig") },
      "Add sig (signed)",
      { push: true, sign: { format: "ssh", key } },
    );

    const reconciler = reconcilerFor(remote, join(root, "signed-cache"), {
      mode: "ssh",
      allowedSigners,
    })(() => {});
    await reconciler.pass();
    await reconciler.settle();
    const sig = () => reconciler.statuses().find((s) => s.cluster === "sig");
    expect(sig()?.lastAppliedRevision).toBe(signed);

    await h.cloud.admin.resetCounters();
    const unsigned = await commit(
      work,
      { "clusters/sig.yaml": manifest("sig", { name: "sig", imageVersion: "4152.2.0" }) },
      "Upgrade sig (unsigned)",
      { push: true },
    );
    const summary = await reconciler.pass();
    await reconciler.settle();
    expect(summary.source).toMatchObject({ ok: false, reason: "unsigned" });
    expect(summary.source.message).toContain(unsigned.slice(0, 7));
    expect(sig()?.observedRevision).toBe(signed);
    const counters = await h.cloud.admin.counters();
    expect(counters["cloudformation:CreateChangeSet"] ?? 0).toBe(0);
    expect(counters["cloudformation:ExecuteChangeSet"] ?? 0).toBe(0);
    const stack = await describeStack(h.aws("eu-west-1").cloudFormation, "quorate-sig");
    expect(stack?.tags["quorate.dev:revision"]).toBe(signed);
  });
});

describe("quorate run killed mid-rollout", () => {
  it("finishes the rollout when started again, and executes nothing twice", async () => {
    const { remote, work } = await remoteIn("crash");
    await commit(
      work,
      { "clusters/crash.yaml": manifest("crash", { name: "crash", size: 3 }) },
      "Add crash",
      { push: true },
    );
    const args = [
      "run",
      "--repo",
      remote,
      "--branch",
      "main",
      "--endpoint",
      h.endpoint,
      "--listen",
      "off",
      "--interval",
      "PT2S",
      "--tick",
      "200",
      "--log-format",
      "json",
      "--cache-dir",
      join(root, "crash-cache"),
    ];
    const start = () =>
      spawn(process.execPath, [MAIN, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      });
    const lines: string[] = [];
    const collect = (child: ChildProcess) =>
      child.stderr?.on("data", (chunk: Buffer) =>
        lines.push(...chunk.toString().split("\n").filter(Boolean)),
      );
    const logged = (what: string, predicate: (line: string) => boolean, timeoutMs = 90_000) =>
      waitFor(what, () => expect(lines.some(predicate), lines.slice(-15).join("\n")).toBe(true), {
        timeoutMs,
      });

    let first = start();
    collect(first);
    try {
      await logged(
        "crash created",
        (l) => l.includes('"event":"done"') && l.includes("CREATE_COMPLETE"),
      );
      await h.cloud.admin.resetCounters();
      lines.length = 0;
      await commit(
        work,
        {
          "clusters/crash.yaml": manifest("crash", {
            name: "crash",
            size: 3,
            imageVersion: "4152.2.0",
          }),
        },
        "Upgrade crash",
        { push: true },
      );
      await logged("a member removed", (l) => l.includes('"event":"member-removed"'));
      first.kill("SIGKILL");
      await new Promise((r) => first.once("exit", r));
      const removedBefore = lines.filter((l) => l.includes('"event":"member-removed"')).length;

      lines.length = 0;
      first = start();
      collect(first);
      await logged(
        "crash updated",
        (l) => l.includes('"event":"done"') && l.includes("UPDATE_COMPLETE"),
        120_000,
      );
      const removedAfter = lines.filter((l) => l.includes('"event":"member-removed"')).length;
      // The second run found the stack mid-update and only supervised it.
      const passLines = lines.filter((l) => l.includes("reconcile pass done"));
      expect(
        passLines.some((l) => l.includes('"supervise-started":1')),
        passLines.join("\n"),
      ).toBe(true);
      expect(lines.some((l) => l.includes("executed change set"))).toBe(false);
      expect(removedBefore + removedAfter).toBe(3);
      const counters = await h.cloud.admin.counters();
      expect(counters["cloudformation:ExecuteChangeSet"]).toBe(1);
      expect(
        (await describeStack(h.aws("eu-west-1").cloudFormation, "quorate-crash"))?.status,
      ).toBe("UPDATE_COMPLETE");
    } finally {
      first.kill("SIGTERM");
    }
  });
});
