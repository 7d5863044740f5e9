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
  let start = -1;
  eventsOldestFirst.forEach((e, i) => {
    if (e.logicalId === stackName && STARTS.has(e.status)) start = i;
  });
  const failed = eventsOldestFirst
    .slice(start + 1)
    .find((e) => e.status.endsWith("_FAILED") && e.reason && !ECHOES.test(e.reason));
  return failed && `${failed.logicalId} ${failed.status}: ${failed.reason}`;
}

const ROLLBACK_STARTS = new Set(["ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS"]);

/** `EtcdLaunchTemplate UPDATE_FAILED: <reason>` for the resource that stopped the newest rollback, if any. */
export function rollbackFailure(
  stackName: string,
  eventsOldestFirst: StackEvent[],
): string | undefined {
  let start = -1;
  eventsOldestFirst.forEach((e, i) => {
    if (e.logicalId === stackName && ROLLBACK_STARTS.has(e.status)) start = i;
  });
  if (start < 0) return undefined;
  const failed = eventsOldestFirst
    .slice(start + 1)
    .find((e) => e.logicalId !== stackName && e.status.endsWith("_FAILED") && e.reason);
  return failed && `${failed.logicalId} ${failed.status}: ${failed.reason}`;
}
