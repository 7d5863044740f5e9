// How supervision paces itself, and how many clusters act at once: shared by
// apply, reconcile and run, and checked at parse time (src/cli/args.ts).
import { durationFlag, integerFlag } from "./args.js";

export const SUPERVISION_FLAGS = {
  tick: { type: "string" },
  "heartbeat-every": { type: "string" },
} as const;

export const SUPERVISION_FLAGS_HELP = `  --tick MS            observation interval while supervising, 10 to 60000 (default: 1000)
  --heartbeat-every D  how often a held lifecycle hook gets a heartbeat, ISO 8601, PT1S to
                       PT1H (default: a third of the manifest's lifecycleHookTimeout, at
                       most PT1M; set it lower against a local cloud run with --time-scale)`;

export function supervisionOptions(flags: {
  tick?: string | undefined;
  "heartbeat-every"?: string | undefined;
}): { tickMs?: number; heartbeatEveryMs?: number } {
  const tickMs = integerFlag("tick", flags.tick, { min: 10, max: 60_000, unit: "milliseconds" });
  const heartbeatEveryMs = durationFlag("heartbeat-every", flags["heartbeat-every"], {
    minMs: 1000,
    maxMs: 3_600_000,
    example: "PT20S",
  });
  return {
    ...(tickMs !== undefined ? { tickMs } : {}),
    ...(heartbeatEveryMs !== undefined ? { heartbeatEveryMs } : {}),
  };
}

export const CONCURRENCY_FLAGS = { concurrency: { type: "string" } } as const;

/** Clusters rolled out at once: at least one, or a pass could never start one. */
export const MAX_CONCURRENCY = 64;

export const CONCURRENCY_FLAGS_HELP = `  --concurrency N      clusters rolled out at once, 1 to ${MAX_CONCURRENCY} (default: 4)`;

export function concurrencyOption(flags: { concurrency?: string | undefined }): {
  concurrency?: number;
} {
  const concurrency = integerFlag("concurrency", flags.concurrency, {
    min: 1,
    max: MAX_CONCURRENCY,
    unit: "clusters at once",
  });
  return concurrency !== undefined ? { concurrency } : {};
}
