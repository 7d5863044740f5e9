// A canary writer on an etcd cluster during a rollout (tests and benchmarks): a bounded loop of
// puts, each followed by a linearizable get of the same key, through the
// gateway, failing over between the members' client URLs the way a client
// with several endpoints does. A write "fails" when no member acknowledges it
// within the deadline; every acknowledged write is read back at the end.
import { createEtcdClient } from "./client.js";

export interface WriteProbeReport {
  attempted: number;
  acknowledged: number;
  failed: number;
  failures: string[];
  /** Acknowledged keys missing (or with another value) when read back at the end. */
  lost: string[];
  /** Longest time one write took from its first attempt to its acknowledgement. */
  worstStallMs: number;
}

export interface WriteProbe {
  stop(): Promise<WriteProbeReport>;
}

export function startWriteProbe(options: {
  /** The current client URLs; called before each write, so it follows membership changes. */
  endpoints: () => Promise<string[]> | string[];
  prefix: string;
  perWriteDeadlineMs?: number;
  /** Upper bound on the writes, so the loop always ends. */
  maxWrites?: number;
  pauseMs?: number;
}): WriteProbe {
  const deadlineMs = options.perWriteDeadlineMs ?? 5000;
  const acknowledged = new Map<string, string>();
  const report: WriteProbeReport = {
    attempted: 0,
    acknowledged: 0,
    failed: 0,
    failures: [],
    lost: [],
    worstStallMs: 0,
  };
  let stopping = false;
  let preferred = 0;

  async function writeOnce(key: string, value: string): Promise<boolean> {
    const started = Date.now();
    let lastError = "";
    while (Date.now() - started < deadlineMs) {
      const endpoints = await options.endpoints();
      if (endpoints.length === 0) {
        await sleep(50);
        continue;
      }
      const endpoint = endpoints[preferred % endpoints.length] as string;
      const client = createEtcdClient(endpoint, { timeoutMs: 1000 });
      try {
        await client.put(key, value);
        const read = await client.range(key);
        if (read.kvs[0]?.value !== value)
          throw new Error(`read back ${read.kvs[0]?.value ?? "nothing"}`);
        report.worstStallMs = Math.max(report.worstStallMs, Date.now() - started);
        return true;
      } catch (error) {
        lastError = `${endpoint}: ${(error as Error).message}`;
        preferred++;
        await sleep(20);
      } finally {
        client.close();
      }
    }
    report.failures.push(`${key}: ${lastError}`);
    return false;
  }

  const loop = (async () => {
    for (let i = 0; !stopping && i < (options.maxWrites ?? 100_000); i++) {
      const key = `${options.prefix}/${String(i).padStart(6, "0")}`;
      const value = `v${i}`;
      report.attempted++;
      if (await writeOnce(key, value)) {
        acknowledged.set(key, value);
        report.acknowledged++;
      } else {
        report.failed++;
      }
      await sleep(options.pauseMs ?? 20);
    }
  })();

  return {
    async stop() {
      stopping = true;
      await loop;
      const endpoints = await options.endpoints();
      const clients = endpoints.map((e) =>
        createEtcdClient(e, { timeoutMs: 2000, keepAlive: true }),
      );
      try {
        for (const [key, value] of acknowledged) {
          let found: string | undefined;
          for (const client of clients) {
            try {
              found = (await client.range(key)).kvs[0]?.value;
              break;
            } catch {
              // try the next member
            }
          }
          if (found !== value) report.lost.push(key);
        }
      } finally {
        for (const client of clients) client.close();
      }
      return report;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
