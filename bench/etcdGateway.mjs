// The few etcd v3 JSON gateway calls the load benchmarks make themselves, on a
// keep-alive agent: src/etcd/client.ts opens a connection per client and reads
// one key per range, which at hundreds of writes a second would measure
// connection set-up and not etcd.
import http from "node:http";

const b64 = (text) => Buffer.from(text).toString("base64");
const unb64 = (text) => Buffer.from(text ?? "", "base64").toString();

/** POSTs a gateway call; resolves with the parsed answer, rejects on a non-200 or the time limit. */
export function gatewayPost(agent, endpoint, path, body, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${endpoint}${path}`, { method: "POST", agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode === 200) resolve(JSON.parse(text));
        else reject(new Error(`${path} ${res.statusCode} ${text.slice(0, 200)}`));
      });
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${path}: no answer in ${timeoutMs} ms`)),
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

export function put(agent, endpoint, key, value, timeoutMs) {
  const encoded = Buffer.isBuffer(value) ? value.toString("base64") : b64(value);
  return gatewayPost(agent, endpoint, "/v3/kv/put", { key: b64(key), value: encoded }, timeoutMs);
}

/** A linearizable read of one key: its value, or undefined. */
export async function get(agent, endpoint, key, timeoutMs) {
  const answer = await gatewayPost(agent, endpoint, "/v3/kv/range", { key: b64(key) }, timeoutMs);
  const kv = answer.kvs?.[0];
  return kv ? unb64(kv.value) : undefined;
}

/** Every key under `prefix` (which must end in "/"), linearizable, in pages: Map key -> value. */
export async function readPrefix(agent, endpoint, prefix, timeoutMs) {
  const found = new Map();
  // "/" + 1 is "0": the range [prefix, prefix with its "/" made "0") is the prefix.
  const rangeEnd = b64(`${prefix.slice(0, -1)}0`);
  let from = prefix;
  for (;;) {
    const answer = await gatewayPost(
      agent,
      endpoint,
      "/v3/kv/range",
      { key: b64(from), range_end: rangeEnd, limit: 5000 },
      timeoutMs,
    );
    const kvs = answer.kvs ?? [];
    for (const kv of kvs) found.set(unb64(kv.key), unb64(kv.value));
    if (!answer.more || kvs.length === 0) return found;
    from = `${unb64(kvs[kvs.length - 1].key)}\0`;
  }
}

/** This member's status: dbSize in bytes, its raft index, the leader it sees. */
export async function memberStatus(agent, endpoint, timeoutMs) {
  const s = await gatewayPost(agent, endpoint, "/v3/maintenance/status", {}, timeoutMs);
  return { dbSize: Number(s.dbSize ?? 0), raftIndex: Number(s.raftIndex ?? 0), leader: s.leader };
}
