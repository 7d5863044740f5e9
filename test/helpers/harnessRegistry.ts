// The harnesses of the running test file, kept apart from quorateHarness.ts so
// that failureEvents.ts (a setup file of every integration file) loads nothing heavy.
import type { RolloutEvent } from "../../src/reconcile/rollout/events.js";

export interface RegisteredHarness {
  endpoint: string;
  events: RolloutEvent[];
}

export const openHarnesses = new Set<RegisteredHarness>();
