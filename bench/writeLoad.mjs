// The write load of bench/rollout-load.bench.mjs: writers sharing a target
// rate, each write a put followed by a linearizable get of the same key,
// retried on the next endpoint on any error, as a client given several
// endpoints does. A write fails when no member acknowledges it within the
// deadline. Every write's start and latency is kept, so the bench can split
// them into before and during the rollout; every acknowledged key is read back
// at the end.
import http from "node:http";
import { get, put, readPrefix } from "./etcdGateway.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * endpoints(): the current client URLs (kept fresh by the caller; called per attempt).
 * rate: writes per second for all writers together; a writer that falls behind
 * the schedule writes at once (the achieved rate is reported, not assumed).
 */
export function startWriteLoad({
  endpoints,
  rate,
  writers,
  prefix,
  deadlineMs = 5000,
  attemptMs = 1000,
}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: writers });
  const acknowledged = new Map();
  const samples = []; // [start ms, latency ms] of every acknowledged write
  const failures = [];
  let attempted = 0;
  let failed = 0;
  let next = 0;
  let stopping = false;
  const started = performance.now();
  const t0 = Date.now();
  const periodMs = 1000 / rate;

  async function writeOnce(key, value, writer) {
    const start = Date.now();
    let tries = 0;
    let lastError = "";
    while (Date.now() - start < deadlineMs) {
      const list = endpoints();
      if (list.length === 0) {
        await sleep(50);
        continue;
      }
      const endpoint = list[(writer + tries) % list.length];
      try {
        await put(agent, endpoint, key, value, attemptMs);
        const read = await get(agent, endpoint, key, attemptMs);
        if (read !== value) throw new Error(`read back ${read ?? "nothing"}`);
        samples.push([start, Date.now() - start]);
        return true;
      } catch (error) {
        lastError = `${endpoint}: ${error.message}`;
        tries++;
        await sleep(20);
      }
    }
    failures.push(`${key}: ${lastError}`);
    return false;
  }

  const loops = Array.from({ length: writers }, async (_, writer) => {
    while (!stopping) {
      const n = next++;
      const due = started + n * periodMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (stopping) return;
      const key = `${prefix}${String(n).padStart(8, "0")}`;
      const value = `v${n}-${t0}`;
      attempted++;
      if (await writeOnce(key, value, writer)) acknowledged.set(key, value);
      else failed++;
    }
  });

  return {
    /** Stops scheduling, waits for the writes in flight, then reads every key back. */
    async stop() {
      stopping = true;
      await Promise.all(loops);
      const stoppedAt = Date.now();
      let stored;
      for (const endpoint of endpoints()) {
        try {
          stored = await readPrefix(agent, endpoint, prefix, 10_000);
          break;
        } catch {
          // the next member
        }
      }
      if (!stored) throw new Error("read-back: no member answered");
      const lost = [...acknowledged].filter(([key, value]) => stored.get(key) !== value);
      agent.destroy();
      return {
        t0,
        stoppedAt,
        attempted,
        acknowledged: acknowledged.size,
        failed,
        lost: lost.map(([key]) => key),
        failures,
        samples,
      };
    },
  };
}

/** p50, p99 and max latency, achieved rate and the longest gap between acknowledgements, over [from, to). */
export function summarize(samples, from, to) {
  const inWindow = samples.filter(([start]) => start >= from && start < to);
  const latencies = inWindow.map(([, ms]) => ms).sort((a, b) => a - b);
  const pick = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  const acks = inWindow.map(([start, ms]) => start + ms).sort((a, b) => a - b);
  let stallMs = acks.length > 0 ? acks[0] - from : to - from;
  for (let i = 1; i < acks.length; i++) stallMs = Math.max(stallMs, acks[i] - acks[i - 1]);
  return {
    writes: latencies.length,
    ratePerS: Math.round((latencies.length / (to - from)) * 1000),
    p50Ms: pick(0.5) ?? null,
    p99Ms: pick(0.99) ?? null,
    maxMs: latencies.at(-1) ?? null,
    worstStallMs: stallMs,
  };
}
