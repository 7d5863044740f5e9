// Membership operations quorate performs as the only writer of membership
// (docs/architecture.md#rollout-supervision). Each is idempotent where etcd allows, fails over
// between endpoints, and retries what etcd says will pass shortly, within a
// time limit. Replace = remove first, then add as a learner, then promote:
// https://etcd.io/docs/v3.4/op-guide/runtime-configuration/ and
// https://etcd.io/docs/v3.4/learning/design-learner/
import { notReady } from "../errors.js";
import {
  type CallOptions,
  createEtcdClient,
  DEFAULT_TIMEOUT_MS,
  type EtcdClient,
  type EtcdClientOptions,
} from "./client.js";
import { endpointKey } from "./endpoint.js";
import { EtcdRequestError, isEtcdError, isUnreachable } from "./errors.js";
import { probeCluster } from "./probe.js";
import { buildRoster, chooseTransferee } from "./roster.js";
import type { ClusterProbe } from "./types.js";
import { hexId } from "./wire.js";

export const DEFAULT_OPERATION_TIMEOUT_MS = 30_000;

export interface MembershipOptions extends EtcdClientOptions {
  /** Client URLs of the members quorate can reach. */
  endpoints: string[];
  /** Time limit of each operation, retries included, unless the call sets one; default 30 s. */
  operationTimeoutMs?: number;
}

export interface OperationOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Leader {
  id: bigint;
  name: string;
  endpoint: string;
}

export interface LeadershipTransfer {
  /** False when `from` did not lead in the first place. */
  moved: boolean;
  from: bigint;
  /** The leader afterwards. */
  leader: bigint;
}

export interface Membership {
  /**
   * Adds `peerURL` as a learner. When a member already has that peer URL (an
   * earlier attempt, or another quorate), returns its id with added: false.
   */
  addLearner(peerURL: string, op?: OperationOptions): Promise<{ id: bigint; added: boolean }>;
  /** Promotes the learner, retrying "not in sync with leader" with backoff until op.timeoutMs. */
  promoteWhenCaughtUp(id: bigint, op?: OperationOptions): Promise<"promoted" | "already-voter">;
  removeMember(id: bigint, op?: OperationOptions): Promise<"removed" | "already-absent">;
  /** When `from` leads, hands leadership to the healthiest caught-up voter and waits until it has moved. */
  /**
   * Moves leadership away from `from`, to one of `prefer` when it is a healthy,
   * caught-up voter (a member already on the new image, so that leadership moves
   * once per rollout), else to the best other voter.
   */
  transferLeadershipAway(
    from: bigint,
    op?: OperationOptions & { prefer?: readonly bigint[] },
  ): Promise<LeadershipTransfer>;
  /** The leader all answering members agree on, if any. */
  findLeader(op?: OperationOptions): Promise<Leader | undefined>;
  close(): void;
}

const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 2000;

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Retried within an operation: etcd says it will pass shortly. A lost quorum
 * will not, and a cancelled call is the caller's decision.
 */
function passesShortly(error: unknown): boolean {
  return (
    error instanceof EtcdRequestError &&
    error.kind === "transient" &&
    error.failure !== "aborted" &&
    !isEtcdError(error, "notEnoughStartedMembers")
  );
}

export function createMembership(options: MembershipOptions): Membership {
  const clients: EtcdClient[] = options.endpoints.map((e) => createEtcdClient(e, options));
  const requestTimeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let preferred = 0;

  interface Deadline {
    remaining(): number;
    signal: AbortSignal | undefined;
    call(): CallOptions;
    backoff(): Promise<boolean>;
  }

  function deadline(op: OperationOptions | undefined): Deadline {
    const end =
      Date.now() + (op?.timeoutMs ?? options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS);
    let wait = FIRST_BACKOFF_MS;
    const remaining = () => end - Date.now();
    const signal = op?.signal;
    return {
      remaining,
      signal,
      call: () => {
        const timeoutMs = Math.max(1, Math.min(requestTimeout, remaining()));
        return signal ? { timeoutMs, signal } : { timeoutMs };
      },
      /** Sleeps before the next attempt; false when no time is left for one. */
      backoff: async () => {
        const left = remaining();
        if (left <= 0) return false;
        await sleep(Math.min(wait, left), signal);
        wait = Math.min(MAX_BACKOFF_MS, Math.round(wait * 1.6));
        return remaining() > 0;
      },
    };
  }

  /**
   * Runs `attempt` against the members, the last one that answered first.
   * Moves on when a member cannot be asked (or is a learner); retries what
   * passes shortly after a backoff; throws anything else, and the last error
   * when time runs out.
   */
  async function run<T>(
    op: OperationOptions | undefined,
    attempt: (client: EtcdClient, call: CallOptions) => Promise<T>,
    retry: (error: unknown) => boolean = passesShortly,
  ): Promise<T> {
    const clock = deadline(op);
    let last: unknown;
    for (;;) {
      for (let i = 0; i < clients.length && (i === 0 || clock.remaining() > 0); i++) {
        const index = (preferred + i) % clients.length;
        const client = clients[index];
        if (!client) continue;
        try {
          const value = await attempt(client, clock.call());
          preferred = index;
          return value;
        } catch (error) {
          last = error;
          if (isUnreachable(error) || isEtcdError(error, "notSupportedForLearner")) continue;
          if (!retry(error)) throw error;
          break;
        }
      }
      if (!(await clock.backoff())) throw last;
    }
  }

  async function addLearner(
    peerURL: string,
    op?: OperationOptions,
  ): Promise<{ id: bigint; added: boolean }> {
    try {
      const added = await run(op, (c, call) =>
        c.memberAdd([peerURL], { isLearner: true, ...call }),
      );
      return { id: added.member.id, added: true };
    } catch (error) {
      // Already added, also when an earlier attempt timed out after etcd applied it. etcd
      // derives a new member's id from its peer URLs and the second of the add, so a
      // repeat within the same second says "member ID already exist" instead.
      if (!isEtcdError(error, "peerURLExists") && !isEtcdError(error, "memberExists")) throw error;
      const { members } = await run(op, (c, call) => c.memberList(call));
      const key = endpointKey(peerURL);
      const existing = members.find((m) => m.peerURLs.some((u) => endpointKey(u) === key));
      if (!existing) throw error;
      return { id: existing.id, added: false };
    }
  }

  async function promoteWhenCaughtUp(id: bigint, op?: OperationOptions) {
    const limit = op?.timeoutMs ?? options.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
    try {
      await run(
        op,
        (c, call) => c.memberPromote(id, call),
        (e) => isEtcdError(e, "learnerNotReady") || passesShortly(e),
      );
      return "promoted" as const;
    } catch (error) {
      if (isEtcdError(error, "memberNotLearner")) return "already-voter" as const;
      if (isEtcdError(error, "learnerNotReady")) {
        throw notReady(
          `learner ${hexId(id)} has not caught up with the leader within ${limit} ms`,
          "check that its etcd runs and can reach its peers; quorate promotes it once it is in sync",
        );
      }
      throw error;
    }
  }

  async function removeMember(id: bigint, op?: OperationOptions) {
    try {
      await run(op, (c, call) => c.memberRemove(id, call));
      return "removed" as const;
    } catch (error) {
      if (isEtcdError(error, "memberNotFound")) return "already-absent" as const;
      throw error;
    }
  }

  async function probe(clock: Deadline): Promise<ClusterProbe> {
    const { timeoutMs, signal } = clock.call();
    return probeCluster(
      options.endpoints,
      signal ? { ...options, timeoutMs, signal } : { ...options, timeoutMs },
    );
  }

  async function findLeader(op?: OperationOptions): Promise<Leader | undefined> {
    const roster = buildRoster(await probe(deadline(op)));
    const id = roster.leader.id;
    const entry = id === undefined ? undefined : roster.byId.get(id);
    const endpoint = entry?.probe?.endpoint ?? entry?.member.clientURLs[0];
    if (id === undefined || !entry || endpoint === undefined) return undefined;
    return { id, name: entry.member.name, endpoint };
  }

  async function transferLeadershipAway(
    from: bigint,
    op?: OperationOptions & { prefer?: readonly bigint[] },
  ): Promise<LeadershipTransfer> {
    const clock = deadline(op);
    let moved = false;
    let last: unknown;
    for (;;) {
      const snapshot = await probe(clock);
      const roster = buildRoster(snapshot);
      const leader = roster.leader.id;
      if (leader !== undefined && leader !== from) return { moved, from, leader };
      const leaderEntry = leader === undefined ? undefined : roster.byId.get(leader);
      // The leader's own advertised URL when it is not among the endpoints we were given.
      const leaderEndpoint = leaderEntry?.probe?.endpoint ?? leaderEntry?.member.clientURLs[0];
      const target = chooseTransferee(snapshot, from, new Set(op?.prefer ?? []));
      if (leader !== undefined && target === undefined) {
        throw notReady(
          `no healthy, caught-up voting member can take over leadership from ${roster.byId.get(from)?.label ?? hexId(from)}`,
          "bring the other members back to health first",
        );
      }
      if (leaderEndpoint !== undefined && target !== undefined) {
        const known = clients.find((c) => c.endpoint === endpointKey(leaderEndpoint));
        const client = known ?? createEtcdClient(leaderEndpoint, options);
        try {
          // MoveLeader returns once the transfer is done (or failed); the next probe confirms.
          await client.transferLeadership(target, clock.call());
          moved = true;
        } catch (error) {
          last = error;
          const leaderMoved =
            isEtcdError(error, "notLeader") || isEtcdError(error, "badLeaderTransferee");
          if (!leaderMoved && !passesShortly(error) && !isUnreachable(error)) throw error;
        } finally {
          if (!known) client.close();
        }
      }
      if (!(await clock.backoff())) {
        throw (
          last ??
          notReady(
            `leadership did not settle away from ${hexId(from)} in time`,
            "wait for the election to settle and try again",
          )
        );
      }
    }
  }

  return {
    addLearner,
    promoteWhenCaughtUp,
    removeMember,
    transferLeadershipAway,
    findLeader,
    close: () => {
      for (const c of clients) c.close();
    },
  };
}
