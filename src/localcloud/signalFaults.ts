// Signals pass through the signal faults first: dropped, delayed, or delivered.
import type { World } from "./world.js";

/**
 * Delivers a signal unless a fault drops or delays it. A delayed signal is
 * delivered later by the driver (as the instance's own signal); a dropped one is only logged.
 */
export function applySignalFault(
  world: World,
  instanceId: string,
  status: "SUCCESS" | "FAILURE",
  reason: string,
  deliver: () => void,
): void {
  const fault = world.faults.takeSignalFault(instanceId);
  if (fault?.mode === "drop") {
    world.log({ event: "signal-dropped", instanceId, status });
    return;
  }
  if (fault?.mode === "delay") {
    const at = world.now() + (fault.delayMs ?? 0);
    world.faults.delayed.push({ instanceId, status, reason, at });
    world.log({ event: "signal-delayed", instanceId, status, at });
    world.kick();
    return;
  }
  deliver();
}
