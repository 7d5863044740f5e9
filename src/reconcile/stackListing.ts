// Lists the stacks of every location (account and region) at once. Each
// location fails on its own: one account's throttling or refused AssumeRole
// marks that location, and every other location's stacks are still listed.
// A location still listing well after another has answered (its calls being
// throttled and retried, say) is not waited for: the others go on, and it is
// reported unreachable for this pass and waited for in full at the next.
import { AssumeRoleRefused, type AwsClientPool } from "../aws/clients.js";
import { listStacks } from "../aws/stacks.js";
import { describeError } from "../errors.js";
import { describeLocation, type Location, locationKey } from "./locations.js";
import type { RegionStack } from "./planWork.js";

export interface StackListing {
  stacks: RegionStack[];
  /** locationKey -> why its stacks could not be listed, for a failure that may pass. */
  unreachable: Map<string, string>;
  /** locationKey -> why, for a location whose role quorate may not assume. */
  refused: Map<string, string>;
  /** The locations not waited for (a subset of unreachable's keys). */
  cutOff: Set<string>;
}

export interface ListingOptions {
  /** How long a location may go on listing once another has answered; Infinity waits for all. */
  patienceMs?: number;
  /** locationKeys waited for however long they take (cut off at the pass before). */
  waitInFull?: ReadonlySet<string>;
}

export const LISTING_PATIENCE_MS = 5000;

export async function listLocations(
  aws: AwsClientPool,
  locations: readonly Location[],
  options: ListingOptions = {},
): Promise<StackListing> {
  const listing: StackListing = {
    stacks: [],
    unreachable: new Map(),
    refused: new Map(),
    cutOff: new Set(),
  };
  if (locations.length === 0) return listing;
  const patienceMs = options.patienceMs ?? LISTING_PATIENCE_MS;
  const answered = new Set<string>();
  let closed = false;
  const runs = locations.map(async (location) => {
    const { region, account } = location;
    const key = locationKey(location);
    try {
      const stacks = await listStacks(aws(region, account).cloudFormation);
      if (closed) return;
      for (const stack of stacks)
        listing.stacks.push({ region, ...(account ? { account } : {}), stack });
    } catch (error) {
      if (closed) return;
      const failures = error instanceof AssumeRoleRefused ? listing.refused : listing.unreachable;
      failures.set(key, describeError(error));
    }
    answered.add(key);
  });
  const inFull = locations
    .map((location, i) => ({ key: locationKey(location), run: runs[i]! }))
    .filter(({ key }) => options.waitInFull?.has(key))
    .map(({ run }) => run);
  let timer: NodeJS.Timeout | undefined;
  if (Number.isFinite(patienceMs)) {
    const patienceRunsOut = Promise.any(runs).then(
      () => new Promise<void>((resolve) => (timer = setTimeout(resolve, patienceMs))),
    );
    await Promise.race([Promise.all(runs), Promise.all([patienceRunsOut, ...inFull])]);
    clearTimeout(timer);
  } else {
    await Promise.all(runs);
  }
  closed = true;
  for (const location of locations) {
    const key = locationKey(location);
    if (answered.has(key)) continue;
    listing.cutOff.add(key);
    listing.unreachable.set(
      key,
      `its stacks were still being listed ${patienceMs < 1000 ? `${patienceMs}ms` : `${Math.round(patienceMs / 1000)}s`} after the other locations' (CloudFormation throttling or slow in ${describeLocation(location)}); the others went on without waiting, and this one is waited for at the next pass`,
    );
  }
  return listing;
}
