// The last reconcile passes with their outcome, newest first, for the
// dashboard: what each cluster came to in each pass, or why the pass failed.
// Pure: the daemon keeps the list and hands each new pass to recordPass.
import { passResult } from "../reconcile/metrics.js";
import type { PassSummary } from "../reconcile/reconciler.js";

export type PassRecord =
  | {
      ok: true;
      startedAt: string;
      durationMs: number;
      revision?: string;
      /** Whether the git source synced; when not, the last good revision was reconciled. */
      sourceOk: boolean;
      /** cluster -> its result in the pass (ready, applied, apply-started, busy...). */
      results: { cluster: string; result: string }[];
    }
  | { ok: false; startedAt: string; durationMs: number; error: string };

export const PASSES_KEPT = 10;

export function passRecord(summary: PassSummary): PassRecord {
  return {
    ok: true,
    startedAt: summary.startedAt,
    durationMs: summary.durationMs,
    ...(summary.revision ? { revision: summary.revision } : {}),
    sourceOk: summary.source.ok,
    results: summary.clusters.map((entry) => ({
      cluster: entry.cluster,
      result: passResult(entry),
    })),
  };
}

export function failedPassRecord(startedAt: number, finishedAt: number, error: string): PassRecord {
  return {
    ok: false,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: finishedAt - startedAt,
    error,
  };
}

export function recordPass(
  history: readonly PassRecord[],
  pass: PassRecord,
  keep = PASSES_KEPT,
): PassRecord[] {
  return [pass, ...history].slice(0, keep);
}
