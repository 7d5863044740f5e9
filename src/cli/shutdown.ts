// SIGINT and SIGTERM for every command. The first aborts the command's signal
// and gives the work in flight until a deadline to finish; the deadline, or a
// second signal, exits at once. Without the bound, an AWS call or an etcd
// request that never got an answer held a stopping process until systemd's
// SIGKILL (or forever by hand), and nothing said what it was waiting for.
import { usage } from "../errors.js";
import { parseIsoDuration } from "../manifest/duration.js";
import { EXIT } from "./exitCodes.js";
import type { Logger } from "./log.js";

export const STOP_TIMEOUT_ENV = "QUORATE_STOP_TIMEOUT";
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;
/**
 * `demo` and `local` stop the etcd members they started (up to 5 s each) and the
 * terminations under way. The members run detached, so that they outlive a crash
 * of the local cloud: cut off by the deadline, they would be left running.
 */
export const OWNED_PROCESSES_STOP_TIMEOUT_MS = 120_000;
const OWNS_PROCESSES = new Set(["demo", "local"]);

/** The deadline a command gets when QUORATE_STOP_TIMEOUT is unset. */
export function defaultStopTimeoutMs(command: string): number {
  return OWNS_PROCESSES.has(command) ? OWNED_PROCESSES_STOP_TIMEOUT_MS : DEFAULT_STOP_TIMEOUT_MS;
}
const MAX_STOP_TIMEOUT_MS = 3_600_000;

/** What a command tells the shutdown about itself. */
export interface StopControl {
  /** Names the work in flight (a pass, a cluster's rollout), for the line when the deadline passes. */
  trackInFlight(describe: () => string[]): void;
  /** Write the stop's lines through the command's own logger (its --log-format and level). */
  logTo(log: Logger): void;
}

export interface ShutdownOptions {
  command: string;
  timeoutMs: number;
  /** Aborted by the first signal. */
  controller: AbortController;
  log: Logger;
  /** process in the CLI; a fake in a test. */
  process: Pick<NodeJS.Process, "on">;
  exit(code: number): void;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Listens for as long as the process lives: work a command left running after it
 * returned (a rollout's last etcd call) gets the same bounded stop.
 */
export function installShutdown(options: ShutdownOptions): StopControl {
  const describers: (() => string[])[] = [];
  let log = options.log;
  let stopping = false;
  const inFlight = () => {
    const work = describers.flatMap((describe) => describe());
    return work.length > 0 ? work : undefined;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn("second signal while stopping; exiting at once", {
        signal,
        command: options.command,
        inFlight: inFlight(),
        code: EXIT.interrupted,
      });
      options.exit(EXIT.interrupted);
      return;
    }
    stopping = true;
    log.info("stopping: waiting for the work in flight", {
      signal,
      command: options.command,
      timeoutMs: options.timeoutMs,
    });
    // unref: the timer bounds the stop, it must not be what keeps the process alive once the work is done.
    setTimeout(() => {
      log.error("stop timed out; exiting with work still in flight", {
        signal,
        command: options.command,
        timeoutMs: options.timeoutMs,
        inFlight: inFlight(),
        code: EXIT.stopTimedOut,
      });
      options.exit(EXIT.stopTimedOut);
    }, options.timeoutMs).unref();
    options.controller.abort();
  };
  for (const signal of SIGNALS) options.process.on(signal, onSignal);
  return {
    trackInFlight: (describe) => {
      describers.push(describe);
    },
    logTo: (next) => {
      log = next;
    },
  };
}

/** QUORATE_STOP_TIMEOUT, an ISO 8601 duration like the flags take; unset is the default. */
export function stopTimeoutMs(
  env: NodeJS.ProcessEnv,
  defaultMs: number = DEFAULT_STOP_TIMEOUT_MS,
): number {
  const value = env[STOP_TIMEOUT_ENV];
  if (value === undefined || value === "") return defaultMs;
  const ms = parseIsoDuration(value);
  if (ms === undefined || ms < 1_000 || ms > MAX_STOP_TIMEOUT_MS)
    throw usage(
      `${STOP_TIMEOUT_ENV} must be an ISO 8601 duration from PT1S to PT1H, such as PT10S (got ${JSON.stringify(value)})`,
    );
  return ms;
}
