// Integration setup file: when a story fails, print the rollout events its
// harnesses recorded. A timeout on a loaded CI machine then says where the
// rollout stood (the step, the member, the gate) instead of only "timed out".
import { beforeEach } from "vitest";
import { formatEventLine } from "../../src/reconcile/rollout/events.js";
import { openHarnesses } from "./harnessRegistry.js";

const SHOWN = 80;

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    for (const harness of openHarnesses) {
      // A hold records a heartbeat every second; the last one is enough to show it.
      const heartbeats = harness.events.filter((e) => e.type === "hook-held");
      const telling = harness.events.filter(
        (e) => e.type !== "hook-held" || e === heartbeats.at(-1),
      );
      const lines = telling.slice(-SHOWN).map(formatEventLine);
      const skipped = telling.length - lines.length;
      process.stderr.write(
        `rollout events of the failed test (local cloud ${harness.endpoint}; ${heartbeats.length} heartbeats left out${skipped ? `, and the first ${skipped} others` : ""}):\n${lines.join("\n") || "(none)"}\n`,
      );
    }
  });
});
