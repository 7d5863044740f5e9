// Where stacks live: an account and a region. quorate lists, matches, orphans
// and prunes stacks per location, so that a cluster is only ever matched with
// a stack of its own account, and one account that cannot be read (a refused
// AssumeRole, throttling) leaves every other account's clusters alone.
// Pure: plain data in, plain data out.
import type { AccountSpec } from "../manifest/types.js";

export interface Location {
  region: string;
  /** Absent: the account of the credentials quorate runs with. */
  account?: AccountSpec;
}

/**
 * One key per account and region. The account is the role's ARN: the same
 * role under another session name or externalId is the same account, and its
 * stacks are listed once.
 */
export function locationKey(location: Location): string {
  return location.account ? `${location.region} ${location.account.roleArn}` : location.region;
}

/** "eu-west-1", or "eu-west-1 in account 111111111111 (role arn:...)" for people. */
export function describeLocation(location: Location): string {
  if (!location.account) return location.region;
  const accountId = /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(location.account.roleArn)?.[1];
  return `${location.region} in account ${accountId ?? "?"} (role ${location.account.roleArn})`;
}

/** Every location once, in a stable order: the ambient account's first, then by key. */
export function distinctLocations(locations: Iterable<Location>): Location[] {
  const byKey = new Map<string, Location>();
  for (const location of locations) {
    const key = locationKey(location);
    if (!byKey.has(key)) byKey.set(key, location);
  }
  return [...byKey.entries()]
    .sort(([a, la], [b, lb]) => {
      const ambient = Number(Boolean(la.account)) - Number(Boolean(lb.account));
      return ambient !== 0 ? ambient : a.localeCompare(b);
    })
    .map(([, location]) => location);
}

/**
 * The locations a pass lists: every cluster's, the extra regions (in the
 * ambient account), and those listed before (so that a deleted manifest's
 * stack is still found in its account, for its orphan report or prune).
 */
export function listingLocations(input: {
  clusters: readonly Location[];
  regions?: readonly string[];
  before?: Iterable<Location>;
}): Location[] {
  return distinctLocations([
    ...(input.regions ?? []).map((region) => ({ region })),
    ...input.clusters.map((c) => ({
      region: c.region,
      ...(c.account ? { account: c.account } : {}),
    })),
    ...(input.before ?? []),
  ]);
}
