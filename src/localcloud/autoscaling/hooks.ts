// Lifecycle actions: an instance waits in Pending:Wait or Terminating:Wait
// until every hook of the transition is completed (CompleteLifecycleAction) or
// times out (HeartbeatTimeout, restarted by RecordLifecycleActionHeartbeat),
// when the hook's DefaultResult applies. Pure functions of the records and now.
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html
import { uuid } from "../ids.js";
import type {
  GroupInstanceRecord,
  LifecycleActionRecord,
  LifecycleHookRecord,
  LifecycleTransition,
} from "../state/model.js";

/** An action may be kept alive by heartbeats for 100 x HeartbeatTimeout or 48 hours, whichever is less. */
const GLOBAL_TIMEOUT_SECONDS = 48 * 3600;

export function hooksFor(
  hooks: readonly LifecycleHookRecord[],
  transition: LifecycleTransition,
): LifecycleHookRecord[] {
  return hooks.filter((h) => h.transition === transition);
}

/** New actions for the hooks of a transition; timeouts scaled by the local cloud's timeScale. */
export function startActions(
  hooks: readonly LifecycleHookRecord[],
  now: number,
  timeScale: number,
): LifecycleActionRecord[] {
  return hooks.map((hook) => ({
    hookName: hook.name,
    token: uuid(),
    deadline: now + hook.heartbeatTimeoutSeconds * 1000 * timeScale,
    globalDeadline:
      now + Math.min(100 * hook.heartbeatTimeoutSeconds, GLOBAL_TIMEOUT_SECONDS) * 1000 * timeScale,
  }));
}

export type ActionsOutcome =
  | { kind: "waiting"; until: number }
  | { kind: "done"; result: "CONTINUE" | "ABANDON" };

/**
 * Where the actions of an instance stand: still waiting (until the earliest
 * deadline), or done with ABANDON if any ended so, else CONTINUE. A timed-out
 * action takes its hook's DefaultResult.
 */
export function actionsOutcome(
  actions: readonly LifecycleActionRecord[],
  hooks: readonly LifecycleHookRecord[],
  now: number,
): ActionsOutcome {
  let until = Number.POSITIVE_INFINITY;
  const results: ("CONTINUE" | "ABANDON")[] = [];
  for (const action of actions) {
    if (action.result) {
      results.push(action.result);
      continue;
    }
    const deadline = Math.min(action.deadline, action.globalDeadline);
    if (now >= deadline) {
      results.push(hooks.find((h) => h.name === action.hookName)?.defaultResult ?? "CONTINUE");
      continue;
    }
    until = Math.min(until, deadline);
  }
  if (results.length < actions.length) return { kind: "waiting", until };
  return { kind: "done", result: results.includes("ABANDON") ? "ABANDON" : "CONTINUE" };
}

/** The instance's open action for a hook, by instance id or token. */
export function openAction(
  instance: GroupInstanceRecord,
  hookName: string,
  now: number,
  token?: string,
): LifecycleActionRecord | undefined {
  if (
    instance.lifecycleState !== "Pending:Wait" &&
    instance.lifecycleState !== "Terminating:Wait"
  ) {
    return undefined;
  }
  return instance.actions?.find(
    (a) =>
      a.hookName === hookName &&
      a.result === undefined &&
      (token === undefined || a.token === token) &&
      now < Math.min(a.deadline, a.globalDeadline),
  );
}

/** RecordLifecycleActionHeartbeat: the timeout starts again, within the global limit. */
export function heartbeat(
  action: LifecycleActionRecord,
  hook: LifecycleHookRecord | undefined,
  now: number,
  timeScale: number,
): void {
  const seconds = hook?.heartbeatTimeoutSeconds ?? 3600;
  action.deadline = Math.min(now + seconds * 1000 * timeScale, action.globalDeadline);
}
