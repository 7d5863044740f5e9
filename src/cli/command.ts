import type { Writable } from "node:stream";
import type { StopControl } from "./shutdown.js";

/** What a command may touch. Tests pass their own streams and environment. */
export interface CommandContext {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
  /** The bounded stop after that signal (src/cli/shutdown.ts): what is in flight, which logger. */
  stop: StopControl;
}

export interface Command {
  name: string;
  /** One line for `quorate --help`. */
  summary: string;
  /** Full text for `quorate <name> --help`. */
  help: string;
  run(args: string[], context: CommandContext): Promise<number>;
}
