// SIGTERM has a hard bound (src/cli/shutdown.ts). The AWS endpoint here is a
// loopback server that accepts every request and never answers, so a pass hangs
// in flight the way it does behind a dead network path: the stop must end at
// QUORATE_STOP_TIMEOUT with 124 and say what it left, a second signal must end
// it at once with 130, and a stop with nothing in flight keeps exit 0.
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { defaultStopTimeoutMs, stopTimeoutMs } from "../../src/cli/shutdown.js";
import { createManifestRepo, type ManifestRepo } from "../helpers/manifestRepo.js";
import { git } from "../source/gitRepos.js";
import { type Spawned, spawnQuorate } from "./spawnCli.js";

const FEED = fileURLToPath(new URL("../fixtures/flatcar", import.meta.url));
/** However the CLI behaves, no process outlives this. */
const WATCHDOG_MS = 20_000;
/** A loaded two-core machine may take this long past a deadline to exit. */
const MARGIN_MS = 4_000;

let repo: ManifestRepo;
let silent: Server;
let endpoint: string;
let requests = 0;
const sockets = new Set<Socket>();
const alive = new Set<number>();

beforeAll(async () => {
  repo = await createManifestRepo({ prefix: "stop-deadline" });
  repo.write("alpha", { name: "alpha" });
  await repo.commit("alpha");
  // A manifests directory with no manifest in it: a pass over it makes no AWS call.
  mkdirSync(join(repo.dir, "none"));
  writeFileSync(join(repo.dir, "none", "README.md"), "no clusters here\n");
  await git(repo.dir, ["add", "none"]);
  await git(repo.dir, ["commit", "--quiet", "-m", "none"]);
});
afterAll(async () => {
  await repo?.close();
});

beforeEach(async () => {
  requests = 0;
  // Reads every request and never answers it.
  silent = createServer(() => {
    requests += 1;
  });
  silent.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
  endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});
afterEach(async () => {
  for (const pid of alive) process.kill(pid, "SIGKILL");
  alive.clear();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((done) => silent.close(() => done()));
});

const COMMANDS: Record<string, (path: string) => string[]> = {
  run: (path) => [
    "run",
    "--repo",
    repo.dir,
    "--path",
    path,
    "--listen",
    "off",
    "--interval",
    "PT1H",
  ],
  "reconcile --once": (path) => ["reconcile", "--once", "--repo", repo.dir, "--path", path],
};

interface Launched {
  /** Sends SIGTERM; returns when. */
  term(): number;
  stderr(): string;
  exited: Promise<Spawned & { at: number }>;
}

function launch(args: string[], stopTimeout: string): Launched {
  let pid = 0;
  let stderr = "";
  const exited = spawnQuorate([...args, "--endpoint", endpoint], repo.dir, {
    env: {
      ...process.env,
      QUORATE_AMI_FEED: FEED,
      XDG_CACHE_HOME: join(repo.dir, ".cache"),
      QUORATE_STOP_TIMEOUT: stopTimeout,
    },
    onStart: (p) => {
      pid = p;
      alive.add(p);
    },
    onStderr: (text) => {
      stderr = text;
    },
  });
  const watchdog = setTimeout(() => process.kill(pid, "SIGKILL"), WATCHDOG_MS);
  return {
    term: () => {
      process.kill(pid, "SIGTERM");
      return Date.now();
    },
    stderr: () => stderr,
    exited: exited.then((result) => {
      clearTimeout(watchdog);
      alive.delete(pid);
      return { ...result, at: Date.now() };
    }),
  };
}

/** The JSON log lines with this message. */
function logLines(stderr: string, msg: string): Record<string, unknown>[] {
  return stderr
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === msg);
}

const STOPPING = "stopping: waiting for the work in flight";
const TIMED_OUT = "stop timed out; exiting with work still in flight";
const SECOND = "second signal while stopping; exiting at once";
const waitFor = (check: () => boolean) =>
  vi.waitFor(() => expect(check()).toBe(true), { timeout: 10_000, interval: 50 });

describe("SIGTERM while an AWS call hangs in flight", () => {
  it.each(Object.keys(COMMANDS))(
    "%s: exits 124 at the stop deadline and logs what was in flight",
    async (command) => {
      const quorate = launch(COMMANDS[command]?.("clusters") ?? [], "PT1S");
      await waitFor(() => requests > 0);
      const signalled = quorate.term();
      const exit = await quorate.exited;
      const took = exit.at - signalled;
      expect(exit.code, exit.stderr).toBe(124);
      expect(took).toBeGreaterThanOrEqual(900);
      expect(took).toBeLessThan(1_000 + MARGIN_MS);
      expect(logLines(exit.stderr, STOPPING)).toEqual([
        expect.objectContaining({ signal: "SIGTERM", timeoutMs: 1_000 }),
      ]);
      expect(logLines(exit.stderr, TIMED_OUT)).toEqual([
        expect.objectContaining({
          level: "error",
          code: 124,
          inFlight: [expect.stringMatching(/^reconcile pass/)],
        }),
      ]);
    },
    30_000,
  );

  it("a second SIGTERM exits 130 at once, long before the deadline", async () => {
    const quorate = launch(COMMANDS.run?.("clusters") ?? [], "PT1H");
    await waitFor(() => requests > 0);
    quorate.term();
    await waitFor(() => quorate.stderr().includes(STOPPING));
    const second = quorate.term();
    const exit = await quorate.exited;
    expect(exit.code, exit.stderr).toBe(130);
    expect(exit.at - second).toBeLessThan(MARGIN_MS);
    expect(logLines(exit.stderr, SECOND)).toEqual([
      expect.objectContaining({ signal: "SIGTERM", code: 130 }),
    ]);
    expect(logLines(exit.stderr, TIMED_OUT)).toEqual([]);
  }, 30_000);
});

describe("SIGTERM with nothing in flight", () => {
  it("run stops at once with exit 0, not at the deadline", async () => {
    const quorate = launch(COMMANDS.run?.("none") ?? [], "PT1H");
    await waitFor(() => quorate.stderr().includes('"msg":"reconcile pass done"'));
    const signalled = quorate.term();
    const exit = await quorate.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.at - signalled).toBeLessThan(MARGIN_MS);
    expect(requests).toBe(0);
    expect(logLines(exit.stderr, STOPPING)).toHaveLength(1);
    expect(logLines(exit.stderr, TIMED_OUT)).toEqual([]);
  }, 30_000);
});

describe("QUORATE_STOP_TIMEOUT", () => {
  it("refuses a value that is not an ISO 8601 duration in range, exit 64", async () => {
    const exit = await launch(COMMANDS.run?.("none") ?? [], "10").exited;
    expect(exit.code).toBe(64);
    expect(exit.stderr).toContain(
      'QUORATE_STOP_TIMEOUT must be an ISO 8601 duration from PT1S to PT1H, such as PT10S (got "10")',
    );
  }, 30_000);
});

describe("the default deadline by command", () => {
  it("is PT10S, and PT2M for demo and local, which stop the etcd members they started", () => {
    expect(defaultStopTimeoutMs("run")).toBe(10_000);
    expect(defaultStopTimeoutMs("reconcile")).toBe(10_000);
    expect(defaultStopTimeoutMs("demo")).toBe(120_000);
    expect(defaultStopTimeoutMs("local")).toBe(120_000);
    expect(stopTimeoutMs({}, defaultStopTimeoutMs("demo"))).toBe(120_000);
    expect(stopTimeoutMs({ QUORATE_STOP_TIMEOUT: "PT5S" }, defaultStopTimeoutMs("demo"))).toBe(
      5_000,
    );
  });
});
