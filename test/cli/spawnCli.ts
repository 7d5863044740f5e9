// The real CLI as a process (bin/quorate on dist/), for what only a process
// shows: its exit code (13 for an unsettled top-level await), signals, time.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface Spawned {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function spawnQuorate(
  args: string[],
  cwd: string,
  options: {
    env?: NodeJS.ProcessEnv;
    onStart?: (pid: number) => void;
    /** Called with everything written to stderr so far, after each chunk. */
    onStderr?: (stderr: string) => void;
  } = {},
): Promise<Spawned> {
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(join(ROOT, "bin", "quorate"), args, {
      cwd,
      env: options.env ?? process.env,
    });
    if (child.pid !== undefined) options.onStart?.(child.pid);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
      options.onStderr?.(stderr);
    });
    child.on("close", (code, signal) =>
      done({ code, signal, stdout, stderr, ms: Date.now() - started }),
    );
  });
}
