// For when the local cloud daemon itself died: find the etcd processes its
// instances left behind through their pid files, and stop them.
import { readdir } from "node:fs/promises";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { instancePaths, isEtcdOfInstance } from "./etcdCommand.js";
import { isAlive, readCmdline, readPidFile, signalPid } from "./etcdProcess.js";

const DEFAULT_GRACE_MS = 5_000;
const POLL_MS = 100;

/**
 * Stops every live etcd recorded under <dataDir>/<instanceId>/etcd.pid whose
 * command line is that instance's etcd: SIGTERM, SIGKILL after graceMs.
 * Returns the pids it stopped. The data stays.
 */
export async function killRecordedInstanceProcesses(
  dataDir: string,
  graceMs = DEFAULT_GRACE_MS,
): Promise<number[]> {
  const root = resolve(dataDir);
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const pids: number[] = [];
  for (const instanceId of entries) {
    const paths = instancePaths(root, instanceId);
    const pid = readPidFile(paths);
    if (pid === undefined || !isAlive(pid)) continue;
    if (!isEtcdOfInstance(readCmdline(pid), paths, instanceId)) continue;
    pids.push(pid);
  }
  for (const pid of pids) {
    signalPid(pid, "SIGTERM");
    signalPid(pid, "SIGCONT"); // a paused etcd cannot act on SIGTERM
  }
  const deadline = Date.now() + graceMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(POLL_MS);
  for (const pid of pids.filter(isAlive)) signalPid(pid, "SIGKILL");
  const killDeadline = Date.now() + DEFAULT_GRACE_MS;
  while (pids.some(isAlive) && Date.now() < killDeadline) await sleep(POLL_MS);
  return pids;
}
