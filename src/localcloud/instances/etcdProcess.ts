// An instance's etcd process: spawned by us, or adopted by pid after a local
// cloud restart. Spawned detached (own session and process group) with stdio
// to a file, so a local cloud killed with SIGKILL leaves etcd running.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { InstancePaths } from "./etcdCommand.js";

const ADOPTED_POLL_MS = 200;
/** After SIGKILL, how long to wait for the kernel to reap before giving up. */
const KILL_WAIT_MS = 5_000;

export interface EtcdExit {
  /** Exit code and signal are known only for processes we spawned. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface EtcdProcess {
  readonly pid: number;
  readonly adopted: boolean;
  /** Byte offset of etcd.log when this process started: what it wrote comes after. */
  readonly logOffset: number;
  /** Resolves once the process is gone (never rejects). */
  readonly exited: Promise<EtcdExit>;
  hasExited(): boolean;
  /** Sends a signal; a process already gone is not an error. */
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM (with SIGCONT, in case it is paused), SIGKILL after graceMs. */
  stop(graceMs: number): Promise<void>;
  /** Stops watching the process without touching it. */
  release(): void;
}

export async function spawnEtcd(
  binary: string,
  args: string[],
  paths: InstancePaths,
): Promise<EtcdProcess> {
  const logOffset = fileSize(paths.etcdLog);
  // etcd logs through zap to --log-outputs; anything before the logger exists
  // (flag errors) goes to stderr, so both land in etcd.log (append mode).
  const out = openSync(paths.etcdLog, "a");
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(binary, args, {
      detached: true,
      stdio: ["ignore", out, out],
      // etcd reads ETCD_* variables as flags; the parent's must not leak in.
      env: { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin" },
    });
  } finally {
    closeSync(out);
  }
  const exited = new Promise<EtcdExit>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  await new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  child.unref();
  const pid = child.pid as number;
  await writeFile(paths.pidFile, `${pid}\n`);
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return processHandle(
    pid,
    false,
    logOffset,
    exited,
    () => done,
    () => {
      child.removeAllListeners();
    },
  );
}

/** Watches a live etcd that is not our child (we cannot wait on it): polls liveness. */
export function adoptEtcd(pid: number, paths: InstancePaths): EtcdProcess {
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  const exited = new Promise<EtcdExit>((resolve) => {
    timer = setInterval(() => {
      if (isAlive(pid)) return;
      clearInterval(timer);
      done = true;
      resolve({ code: null, signal: null });
    }, ADOPTED_POLL_MS);
    timer.unref();
  });
  return processHandle(
    pid,
    true,
    fileSize(paths.etcdLog),
    exited,
    () => done,
    () => {
      clearInterval(timer);
    },
  );
}

function processHandle(
  pid: number,
  adopted: boolean,
  logOffset: number,
  exited: Promise<EtcdExit>,
  hasExited: () => boolean,
  release: () => void,
): EtcdProcess {
  const kill = (signal: NodeJS.Signals) => {
    if (hasExited()) return;
    signalPid(pid, signal);
  };
  return {
    pid,
    adopted,
    logOffset,
    exited,
    hasExited,
    kill,
    release,
    async stop(graceMs: number) {
      if (hasExited()) return;
      kill("SIGTERM");
      kill("SIGCONT");
      if (await exitsWithin(exited, graceMs)) return;
      kill("SIGKILL");
      await exitsWithin(exited, KILL_WAIT_MS);
    },
  };
}

async function exitsWithin(exited: Promise<EtcdExit>, ms: number): Promise<boolean> {
  const ac = new AbortController();
  const timeout = sleep(ms, false, { signal: ac.signal }).catch(() => false);
  const result = await Promise.race([exited.then(() => true), timeout]);
  ac.abort();
  return result;
}

/** kill(2) that treats "no such process" as done. */
export function signalPid(pid: number, signal: NodeJS.Signals | 0): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

/** Alive and not a zombie (a zombie still answers kill(pid, 0)). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  const state = processState(pid);
  return state !== undefined && state !== "Z" && state !== "X";
}

/** True when the process is stopped by a signal (SIGSTOP). */
export function isStopped(pid: number): boolean {
  return processState(pid) === "T";
}

/** The one-letter state from /proc/<pid>/stat (R, S, T, Z...). */
function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may contain spaces; the state follows it.
    return stat.slice(stat.lastIndexOf(")") + 2)[0];
  } catch {
    return undefined;
  }
}

export function readCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

export function readPidFile(paths: InstancePaths): number | undefined {
  try {
    const pid = Number(readFileSync(paths.pidFile, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** What etcd wrote to its log since it started (the tail, at most 64 KiB). */
export function readLogSince(paths: InstancePaths, offset: number): string {
  try {
    const text = readFileSync(paths.etcdLog);
    const from = Math.max(offset, text.length - 65_536);
    return text.subarray(from).toString("utf8");
  } catch {
    return "";
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
