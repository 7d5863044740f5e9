// The local cloud as a separate process, the way `quorate local up` runs it
// (./bin/quorate local up --foreground), so that a test can SIGKILL it.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { waitFor } from "../helpers/waitFor.js";

export const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "quorate");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  const built = join(ROOT, "dist", "cli", "main.js");
  return (
    !existsSync(built) ||
    !existsSync(join(ROOT, "dist", "cli", "local.js")) ||
    newestMtime(join(ROOT, "src")) > statSync(built).mtimeMs
  );
}

/**
 * bin/quorate runs dist/; builds it (npm run build) when the sources are
 * newer. Test files run in parallel, so one builds while the others wait.
 */
export async function ensureBuilt(): Promise<void> {
  mkdirSync(join(ROOT, "dist"), { recursive: true });
  const lock = join(ROOT, "dist", ".build-lock");
  const deadline = Date.now() + 180_000;
  while (isStale()) {
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() > deadline)
        throw new Error(`${lock} is held too long; remove it if no build runs`);
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    try {
      if (isStale())
        execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface Daemon {
  child: ChildProcess;
  endpoint: string;
}

/** Starts `quorate local up --foreground` and waits until it answers. */
export async function startDaemon(args: string[], logFile: string): Promise<Daemon> {
  const out = openSync(logFile, "a");
  const child = spawn(process.execPath, [BIN, "local", "up", "--foreground", ...args], {
    cwd: ROOT,
    stdio: ["ignore", out, out],
    env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: "1" },
  });
  const port = args[args.indexOf("--port") + 1];
  const endpoint = `http://127.0.0.1:${port}`;
  const exited = await waitFor(
    "the local cloud to answer",
    async () => {
      if (child.exitCode !== null) return `the local cloud exited with ${child.exitCode}`;
      const response = await fetch(`${endpoint}/_quorate/health`);
      return response.ok && "";
    },
    { timeoutMs: 30_000 },
  ).catch(() => "the local cloud did not answer");
  // One that exited will not answer: say so at once, with its log.
  if (exited) throw new Error(`${exited}: ${readFileSync(logFile, "utf8").slice(-2000)}`);
  return { child, endpoint };
}

export async function waitForExit(child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the process did not exit")), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Runs the CLI to completion. */
export function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: "1" },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Live etcd processes whose data directory is under `dir` (from /proc). */
export function etcdProcessesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const argv = cmdline.split("\0");
    if (/(^|\/)etcd$/.test(argv[0] ?? "") && argv.some((a) => a.startsWith(`--data-dir=${dir}`))) {
      pids.push(Number(entry));
    }
  }
  return pids;
}

/** A process that exists and is not a zombie (an orphan nobody reaped yet is dead). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}
