// `quorate apply` killed mid-rollout and started again, for real: the built
// CLI (dist/cli/main.js, `npm run build`) as a child process against the local
// cloud with real etcd, SIGKILLed right after it removed the first member. The
// second run finds the stack UPDATE_IN_PROGRESS and only supervises it: the
// rollout completes, one change set executed over both runs, every old member
// removed once.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { localAmiId } from "../../src/localcloud/index.js";
import { applyCluster } from "../../src/reconcile/apply.js";
import { formatEventLine, type RolloutEvent } from "../../src/reconcile/rollout/events.js";
import { type Harness, startHarness, TEST_GATES } from "../helpers/quorateHarness.js";

const MAIN = new URL("../../dist/cli/main.js", import.meta.url).pathname;

let h: Harness;
let dir: string;
const children: ChildProcess[] = [];
beforeAll(async () => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first`);
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), "quorate-restart-"));
  const created = await applyCluster(h.deps(), h.spec("dev"), { revision: "rev-create" });
  if (created.result !== "applied") throw new Error(`dev was not created: ${created.message}`);
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  /** Events and the result line, as `--format json` prints them. */
  lines: (RolloutEvent | { type: "result"; result: string; executed: boolean })[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: string[];
}

/** Runs the built CLI; `onLine` sees each line as it arrives (to kill the run at an exact point). */
function apply(onLine: (line: Run["lines"][number], child: ChildProcess) => void = () => {}): Run {
  const child = spawn(
    process.execPath,
    [
      MAIN,
      ...["apply", "--yes", "--local", "--endpoint", h.endpoint, "--cluster", "dev"],
      ...["--path", dir, "--revision", "rev-upgrade", "--tick", "200", "--format", "json"],
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        XDG_CACHE_HOME: dir,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
    },
  );
  children.push(child);
  const run: Run = {
    child,
    lines: [],
    stderr: [],
    exited: new Promise((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    ),
  };
  let partial = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split("\n");
    partial = complete.pop() ?? "";
    for (const line of complete.filter((l) => l.trim())) {
      const parsed = JSON.parse(line);
      run.lines.push(parsed);
      onLine(parsed, child);
      // QUORATE_TEST_EVENTS=1 shows both runs as they happen.
      if (process.env.QUORATE_TEST_EVENTS && parsed.type !== "result") {
        process.stderr.write(`[pid ${child.pid}] ${formatEventLine(parsed)}\n`);
      }
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => run.stderr.push(chunk.toString()));
  return run;
}

describe("quorate apply killed mid-rollout", () => {
  it("finishes the rollout when started again, executing nothing twice and removing each old member once", async () => {
    const manifest = parse(
      readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8"),
    );
    manifest.spec.image.version = "4152.2.0";
    manifest.spec.gates = { ...manifest.spec.gates, ...TEST_GATES };
    writeFileSync(join(dir, "dev.yaml"), stringify(manifest));
    const spec = h.spec("dev");
    const before = await h.instances(spec);
    await h.cloud.admin.resetCounters();

    // Killed the moment it says it removed a member: before it completes that
    // instance's terminating hook, as like as not.
    const first = apply((line, child) => {
      if (line.type === "member-removed") child.kill("SIGKILL");
    });
    expect((await first.exited).signal).toBe("SIGKILL");
    expect(first.lines.filter((l) => l.type === "member-removed")).toHaveLength(1);
    expect(await h.stackStatus(spec)).toBe("UPDATE_IN_PROGRESS");

    const second = apply();
    const { code } = await second.exited;
    expect(code, JSON.stringify(second.lines.slice(-5)) + second.stderr.join("")).toBe(0);
    const messages = (run: Run) => run.lines.map((l) => ("message" in l ? l.message : ""));
    expect(messages(first)).toContainEqual(expect.stringMatching(/^executed change set /));
    expect(messages(second)).toContain(
      "stack is UPDATE_IN_PROGRESS: supervising the operation under way, executing nothing",
    );
    expect(messages(second).some((m) => m.startsWith("executed change set"))).toBe(false);
    expect(second.lines.at(-1)).toMatchObject({
      type: "result",
      result: "applied",
      executed: false,
    });
    expect((await h.cloud.admin.counters())["cloudformation:ExecuteChangeSet"]).toBe(1);
    expect(await h.stackStatus(spec)).toBe("UPDATE_COMPLETE");

    // Every old member removed by one of the runs, none of them twice.
    const removals = [...first.lines, ...second.lines].filter(
      (l): l is RolloutEvent => l.type === "member-removed",
    );
    const removed = removals.map((e) => e.instanceId ?? "");
    expect([...new Set(removed)].sort()).toEqual(before.map((b) => b.instanceId).sort());
    const really = removals
      .filter((e) => e.message.endsWith(" from etcd"))
      .map((e) => e.instanceId);
    expect(new Set(really).size).toBe(really.length);

    const after = await h.instances(spec);
    const members = await h.members(spec);
    expect(after.every((i) => i.imageId === localAmiId("stable", "4152.2.0", "eu-west-1"))).toBe(
      true,
    );
    expect(after.some((i) => before.some((b) => b.instanceId === i.instanceId))).toBe(false);
    expect(members.filter((m) => !m.isLearner)).toHaveLength(3);
    expect(members.map((m) => m.name).sort()).toEqual(after.map((i) => i.instanceId).sort());
  });
});
