// Who is who in a probe: each member of the list joined with the endpoint that
// answers for it, the endpoints no member accounts for, and who leads. Pure;
// shared by the gate and by membership operations.
import { endpointKey } from "./endpoint.js";
import { quorumOf } from "./quorum.js";
import type { ClusterProbe, EndpointProbe, Member } from "./types.js";
import { hexId } from "./wire.js";

export interface RosterEntry {
  member: Member;
  /** The probed endpoint that is this member, when one is. */
  probe?: EndpointProbe;
  /** "m1 (http://10.0.0.1:2379)", or "member 8e9e05c52164694d (peer http://...)" before it starts. */
  label: string;
  /** Added but never started: no name and no client URLs yet. */
  unstarted: boolean;
}

export interface LeaderView {
  /** The leader every answering member agrees on; undefined when none or they disagree. */
  id?: bigint;
  /** Endpoints by the leader id they report (0n = no leader). */
  reports: Map<bigint, EndpointProbe[]>;
}

export interface Roster {
  /** Members matched to a probed endpoint first (in endpoint order), then the rest. */
  entries: RosterEntry[];
  byId: Map<bigint, RosterEntry>;
  /** Probed endpoints that no member in the list accounts for. */
  orphans: EndpointProbe[];
  leader: LeaderView;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname;
  } catch {
    return undefined;
  }
}

export function labelMember(member: Member, endpoint?: string): string {
  const url = endpoint ?? member.clientURLs[0];
  if (member.name !== "" && url !== undefined) return `${member.name} (${url})`;
  const who = member.name !== "" ? member.name : `member ${hexId(member.id)}`;
  const where = url ?? (member.peerURLs[0] ? `peer ${member.peerURLs[0]}` : "no URLs");
  return `${who} (${where})`;
}

export function isUnstarted(member: Member): boolean {
  return member.name === "" || member.clientURLs.length === 0;
}

/**
 * Matches endpoints to members: by the member id the endpoint reports about
 * itself, else by client URL, else (for a member that has not started) by the
 * host of its peer URL.
 */
export function buildRoster(probe: ClusterProbe): Roster {
  const members = probe.members ?? [];
  const matched = new Map<bigint, EndpointProbe>();
  const orphans: EndpointProbe[] = [];
  const taken = (m: Member) => matched.has(m.id);

  for (const ep of probe.endpoints) {
    const self = ep.status?.header.memberId;
    const norm = endpointKey(ep.endpoint);
    const host = hostOf(ep.endpoint);
    const byId = self === undefined ? undefined : members.find((m) => m.id === self);
    const byClientURL = members.find(
      (m) => !taken(m) && m.clientURLs.some((u) => endpointKey(u) === norm),
    );
    const byPeerHost = members.filter(
      (m) => !taken(m) && isUnstarted(m) && m.peerURLs.some((u) => hostOf(u) === host),
    );
    // An endpoint that names itself is that member, or no member at all (removed, or another cluster).
    const member =
      self !== undefined
        ? byId
        : (byClientURL ?? (byPeerHost.length === 1 ? byPeerHost[0] : undefined));
    if (member && !taken(member)) matched.set(member.id, ep);
    else orphans.push(ep);
  }

  const entries: RosterEntry[] = [];
  for (const ep of probe.endpoints) {
    const member = members.find((m) => matched.get(m.id) === ep);
    if (member) entries.push(entry(member, ep));
  }
  const rest = members
    .filter((m) => !matched.has(m.id))
    .sort((a, b) => a.name.localeCompare(b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const member of rest) entries.push(entry(member, undefined));

  return {
    entries,
    byId: new Map(entries.map((e) => [e.member.id, e])),
    orphans,
    // Endpoints no member accounts for (another cluster, a removed member) do not get a say.
    leader: leaderView(
      probe.members ? entries.flatMap((e) => (e.probe ? [e.probe] : [])) : probe.endpoints,
    ),
  };
}

function entry(member: Member, probe: EndpointProbe | undefined): RosterEntry {
  const label = labelMember(member, probe?.endpoint);
  return probe
    ? { member, probe, label, unstarted: isUnstarted(member) }
    : { member, label, unstarted: isUnstarted(member) };
}

function leaderView(endpoints: EndpointProbe[]): LeaderView {
  const reports = new Map<bigint, EndpointProbe[]>();
  for (const ep of endpoints) {
    if (!ep.status) continue;
    const list = reports.get(ep.status.leader) ?? [];
    list.push(ep);
    reports.set(ep.status.leader, list);
  }
  const [only] = reports.size === 1 ? [...reports.keys()] : [];
  return only !== undefined && only !== 0n ? { id: only, reports } : { reports };
}

/** The label of a member id, or its hex id when the list does not hold it. */
export function labelOf(roster: Roster, id: bigint): string {
  return roster.byId.get(id)?.label ?? `member ${hexId(id)}`;
}

/** Short name for summaries: the member's name, else its hex id. */
export function shortName(roster: Roster, id: bigint): string {
  const name = roster.byId.get(id)?.member.name;
  return name ? name : hexId(id);
}

/** Answers, reports healthy (and reads linearizably when asked) and votes. */
export function isHealthyVoter(entry: RosterEntry): boolean {
  const p = entry.probe;
  return (
    p?.reachable === true &&
    p.health?.healthy === true &&
    p.linearizableRead?.ok !== false &&
    !entry.member.isLearner &&
    p.status?.isLearner !== true
  );
}

/**
 * The voter to hand leadership to: started, answering, healthy, voting, not
 * `from`; among those, one in `preferred` first (a member already on the new
 * image, so that leadership moves once per rollout), then the highest applied
 * index, then the lowest id. Pure.
 */
export function chooseTransferee(
  probe: ClusterProbe,
  from: bigint,
  preferred: ReadonlySet<bigint> = new Set(),
): bigint | undefined {
  const candidates = buildRoster(probe)
    .entries.filter((e) => e.member.id !== from && !e.unstarted && isHealthyVoter(e))
    .flatMap((e) =>
      e.probe?.status
        ? [
            {
              id: e.member.id,
              applied: e.probe.status.raftAppliedIndex,
              preferred: preferred.has(e.member.id),
            },
          ]
        : [],
    );
  candidates.sort((a, b) => {
    if (a.preferred !== b.preferred) return a.preferred ? -1 : 1;
    if (a.applied !== b.applied) return a.applied > b.applied ? -1 : 1;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  return candidates[0]?.id;
}

export interface FaultTolerance {
  /** Voting members in the list (learners never vote; an unstarted voter still counts). */
  voters: number;
  healthyVoters: number;
  /** Healthy voters beyond the quorum: failures survived now. Negative: quorum is lost. */
  tolerates: number;
}

/**
 * How many more member failures the cluster survives right now. During a
 * launch-first replacement a promoted newcomer raises both the voters and the
 * quorum, so this stays at its resting value; a removed or dead voter lowers it.
 */
export function faultToleranceOf(probe: ClusterProbe): FaultTolerance {
  const voters = buildRoster(probe).entries.filter((e) => !e.member.isLearner);
  const healthyVoters = voters.filter(isHealthyVoter).length;
  return {
    voters: voters.length,
    healthyVoters,
    tolerates: healthyVoters - quorumOf(voters.length),
  };
}

/** What a healthy cluster of `size` members tolerates: 1 for 3, 2 for 5. */
export function restingFaultTolerance(size: number): number {
  return size - quorumOf(size);
}
