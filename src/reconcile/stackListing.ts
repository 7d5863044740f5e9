// Lists the stacks of every location (account and region) at once. Each
// location fails on its own: one account's throttling or refused AssumeRole
// marks that location, and every other location's stacks are still listed.
import { AssumeRoleRefused, type AwsClientPool } from "../aws/clients.js";
import { listStacks } from "../aws/stacks.js";
import { describeError } from "../errors.js";
import { type Location, locationKey } from "./locations.js";
import type { RegionStack } from "./planWork.js";

export interface StackListing {
  stacks: RegionStack[];
  /** locationKey -> why its stacks could not be listed, for a failure that may pass. */
  unreachable: Map<string, string>;
  /** locationKey -> why, for a location whose role quorate may not assume. */
  refused: Map<string, string>;
}

export async function listLocations(
  aws: AwsClientPool,
  locations: readonly Location[],
): Promise<StackListing> {
  const listing: StackListing = { stacks: [], unreachable: new Map(), refused: new Map() };
  await Promise.all(
    locations.map(async (location) => {
      const { region, account } = location;
      try {
        for (const stack of await listStacks(aws(region, account).cloudFormation))
          listing.stacks.push({ region, ...(account ? { account } : {}), stack });
      } catch (error) {
        const failures = error instanceof AssumeRoleRefused ? listing.refused : listing.unreachable;
        failures.set(locationKey(location), describeError(error));
      }
    }),
  );
  return listing;
}
