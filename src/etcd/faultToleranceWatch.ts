// A watcher of a cluster's fault tolerance from outside quorate (tests and
// benchmarks): every interval it reads etcd's own member list and asks each
// voter for its status, the way an operator's etcdctl loop would. A bounded
// loop: it stops at stop() or after maxSamples.
import { createEtcdClient, type EtcdClient } from "./client.js";
import {
  summarizeTolerance,
  type ToleranceSample,
  type ToleranceSummary,
} from "./faultToleranceTimeline.js";
import { hexId } from "./wire.js";

export interface FaultToleranceWatch {
  stop(): Promise<ToleranceSummary & { timeline: ToleranceSample[] }>;
}

export function watchFaultTolerance(options: {
  /** Client URLs to read the member list from (members' own URLs are added as they appear). */
  endpoints: () => Promise<string[]> | string[];
  /** What the cluster tolerates at rest (1 for 3 members, 2 for 5). */
  resting: number;
  intervalMs?: number;
  /**
   * Time limit of each call; a voter slower than this counts as not healthy.
   * Default 1 s: a member busy applying a snapshot on a loaded machine may take
   * half a second to answer and is a voter all the same; a stopped one is
   * refused at once.
   */
  timeoutMs?: number;
  maxSamples?: number;
}): FaultToleranceWatch {
  const intervalMs = options.intervalMs ?? 100;
  const timeoutMs = options.timeoutMs ?? 1000;
  const maxSamples = options.maxSamples ?? 20_000;
  const clients = new Map<string, EtcdClient>();
  const client = (url: string) => {
    let c = clients.get(url);
    if (!c) {
      c = createEtcdClient(url, { timeoutMs, keepAlive: true });
      clients.set(url, c);
    }
    return c;
  };
  const timeline: ToleranceSample[] = [];
  let known: string[] = [];
  let stopping = false;

  async function sample(): Promise<ToleranceSample> {
    const at = Date.now();
    const candidates = [...new Set([...(await options.endpoints()), ...known])];
    let members: { id: bigint; isLearner: boolean; clientURLs: string[] }[] | undefined;
    for (const url of candidates) {
      try {
        members = (await client(url).memberList()).members;
        break;
      } catch {
        // the next endpoint
      }
    }
    if (!members) return { at, healthyVoters: 0 };
    known = members.flatMap((m) => m.clientURLs);
    const voters = members.filter((m) => !m.isLearner);
    const statuses = await Promise.all(
      voters.map(async (m) => {
        const url = m.clientURLs[0];
        if (!url) return undefined;
        try {
          const s = await client(url).status();
          return s.leader !== 0n && !s.isLearner ? s.leader : undefined;
        } catch {
          return undefined;
        }
      }),
    );
    const followed = statuses.filter((l): l is bigint => l !== undefined);
    const votes = new Map<bigint, number>();
    for (const l of followed) votes.set(l, (votes.get(l) ?? 0) + 1);
    const leader = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
    return {
      at,
      voters: voters.length,
      healthyVoters: followed.length,
      ...(leader !== undefined ? { leader: hexId(leader) } : {}),
    };
  }

  const loop = (async () => {
    while (!stopping && timeline.length < maxSamples) {
      const started = Date.now();
      timeline.push(await sample());
      await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (Date.now() - started))));
    }
  })();

  return {
    async stop() {
      stopping = true;
      await loop;
      for (const c of clients.values()) c.close();
      return { ...summarizeTolerance(timeline, options.resting), timeline };
    },
  };
}
