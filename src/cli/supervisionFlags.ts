// How supervision paces itself: shared by apply, reconcile and run.
import { usage } from "../errors.js";
import { parseIsoDuration } from "../manifest/duration.js";

export const SUPERVISION_FLAGS = {
  tick: { type: "string" },
  "heartbeat-every": { type: "string" },
} as const;

export const SUPERVISION_FLAGS_HELP = `  --tick MS            observation interval while supervising (default: 1000)
  --heartbeat-every D  how often a held lifecycle hook gets a heartbeat, ISO 8601
                       (default: a third of the manifest's lifecycleHookTimeout, at most
                       PT1M; set it lower against a local cloud run with --time-scale)`;

export function supervisionOptions(
  command: string,
  flags: { tick?: string | undefined; "heartbeat-every"?: string | undefined },
): { tickMs?: number; heartbeatEveryMs?: number } {
  const out: { tickMs?: number; heartbeatEveryMs?: number } = {};
  if (flags.tick !== undefined) {
    const tickMs = Number(flags.tick);
    if (!Number.isInteger(tickMs) || tickMs < 10) {
      throw usage(
        `quorate ${command}: --tick must be a whole number of milliseconds, at least 10 (got ${flags.tick})`,
      );
    }
    out.tickMs = tickMs;
  }
  const every = flags["heartbeat-every"];
  if (every !== undefined) {
    const ms = parseIsoDuration(every);
    if (ms === undefined || ms < 1000) {
      throw usage(
        `quorate ${command}: --heartbeat-every must be an ISO 8601 duration of at least PT1S (got ${every})`,
      );
    }
    out.heartbeatEveryMs = ms;
  }
  return out;
}
