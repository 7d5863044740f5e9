// Why a stack operation failed, in CloudFormation's own words: the first
// resource that failed in the newest create or update, which is what an
// operator looks for in the console's event list. The rollback's events that
// follow it only repeat it ("Resource creation cancelled"), unless the rollback
// itself fails: then what stopped it is what the operator must fix. Pure.
import type { StackEvent } from "../../aws/stacks.js";

const STARTS = new Set(["CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS"]);
const ECHOES = /^Resource (creation|update) cancelled$/;

/** `EtcdRole CREATE_FAILED: <reason>` for the newest operation's first failure, if any. */
export function firstFailure(
  stackName: string,
  eventsOldestFirst: StackEvent[],
): string | undefined {
  // Without a start in the events read, the failure is looked for in all of them.
  const start = newestStart(stackName, eventsOldestFirst, STARTS);
  return failureFrom(
    eventsOldestFirst.slice(start + 1),
    (e) => e.status.endsWith("_FAILED") && !ECHOES.test(e.reason ?? ""),
  );
}

const ROLLBACK_STARTS = new Set(["ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"]);

/** `EtcdLaunchTemplate UPDATE_FAILED: <reason>` for the resource that stopped the newest rollback, if any. */
export function rollbackFailure(
  stackName: string,
  eventsOldestFirst: StackEvent[],
): string | undefined {
  const start = newestStart(stackName, eventsOldestFirst, ROLLBACK_STARTS);
  if (start < 0) return undefined;
  return failureFrom(
    eventsOldestFirst.slice(start + 1),
    (e) => e.logicalId !== stackName && e.status.endsWith("_FAILED"),
  );
}

/** The index of the stack's newest event with one of these statuses, or -1. */
function newestStart(stackName: string, events: StackEvent[], starts: Set<string>): number {
  return events.findLastIndex((e) => e.logicalId === stackName && starts.has(e.status));
}

/** The first event with a reason that is a failure, as `LogicalId STATUS: reason`. */
function failureFrom(
  events: StackEvent[],
  isFailure: (e: StackEvent) => boolean,
): string | undefined {
  const failed = events.find((e) => e.reason && isFailure(e));
  return failed && `${failed.logicalId} ${failed.status}: ${failed.reason}`;
}
