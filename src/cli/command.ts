import type { Writable } from "node:stream";

/** What a command may touch. Tests pass their own streams and environment. */
export interface CommandContext {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for `quorate --help`. */
  summary: string;
  /** Full text for `quorate <name> --help`. */
  help: string;
  run(args: string[], context: CommandContext): Promise<number>;
}
