// The gateway client's wire format and error mapping. Answer bodies below were
// recorded from etcd 3.4.23 (docs/references.md#etcd-json-gateway); the same calls against real etcd
// run in test/integration/etcdGateway.test.ts. The HTTP cases use a small
// local server replaying recorded bodies, because real etcd will not time out,
// send garbage or hand out ids of our choosing on demand.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEtcdClient } from "../../src/etcd/client.js";
import { EtcdRequestError, isEtcdError, parseEtcdErrorBody } from "../../src/etcd/errors.js";
import {
  bigintAsString,
  formatU64,
  hexId,
  parseAlarms,
  parseHealth,
  parseMembers,
  parseRange,
  parseStatus,
  parseU64,
} from "../../src/etcd/wire.js";

const BIG_ID = 13731248231670261496n; // above 2^63, as etcd hands them out
const LEARNER_ID = 740387094570607032n;

const MEMBER_LIST = `{"header":{"cluster_id":"6965233351678928025","member_id":"13731248231670261496","raft_term":"2"},"members":[{"ID":"740387094570607032","peerURLs":["http://127.33.1.4:2380"],"isLearner":true},{"ID":"5275348575715169573","name":"m3","peerURLs":["http://127.33.1.3:2380"],"clientURLs":["http://127.33.1.3:2379"]},{"ID":"13731248231670261496","name":"m1","peerURLs":["http://127.33.1.1:2380"],"clientURLs":["http://127.33.1.1:2379"]}]}`;
const STATUS = `{"header":{"cluster_id":"11883329334696902680","member_id":"13731248231670261496","revision":"2","raft_term":"2"},"version":"3.4.23","dbSize":"20480","leader":"13731248231670261496","raftIndex":"12","raftTerm":"2","raftAppliedIndex":"12","errors":["memberID:13731248231670261496 alarm:NOSPACE "],"dbSizeInUse":"16384"}`;
const LEARNER_STATUS = `{"header":{"cluster_id":"6965233351678928025","member_id":"740387094570607032","revision":"1","raft_term":"2"},"version":"3.4.23","dbSize":"20480","leader":"13349290484403261518","raftIndex":"12","raftTerm":"2","raftAppliedIndex":"12","dbSizeInUse":"16384","isLearner":true}`;
const RANGE = `{"header":{"cluster_id":"11883329334696902680","member_id":"13731248231670261496","revision":"2","raft_term":"2"},"kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"2","version":"1","value":"YmFy"}],"count":"1"}`;

const etcdError = (message: string, code: number) =>
  JSON.stringify({ error: message, message, code });

describe("uint64 ids", () => {
  it.each([
    [undefined, 0n],
    ["0", 0n],
    ["13731248231670261496", BIG_ID],
    ["18446744073709551615", 18446744073709551615n],
    [42, 42n],
  ])("parses %j", (value, expected) => {
    expect(parseU64(value, "ID")).toBe(expected);
  });

  it.each([["18446744073709551616"], ["-1"], ["01"], ["1e3"], [2 ** 53 + 2], [1.5], [true]])(
    "refuses %j",
    (value) => {
      expect(() => parseU64(value, "ID")).toThrow(/^ID is not a uint64/);
    },
  );

  it("writes ids back as the exact decimal strings etcd sent", () => {
    const ids = parseMembers(JSON.parse(MEMBER_LIST)).map((m) => formatU64(m.id));
    expect(ids).toEqual(["740387094570607032", "5275348575715169573", "13731248231670261496"]);
    expect(formatU64(2n ** 64n - 1n)).toBe("18446744073709551615");
    expect(() => formatU64(2n ** 64n)).toThrow(RangeError);
    expect(() => formatU64(-1n)).toThrow(RangeError);
    expect(JSON.stringify({ id: BIG_ID, n: 1 }, bigintAsString)).toBe(
      '{"id":"13731248231670261496","n":1}',
    );
    expect(hexId(BIG_ID)).toBe("be8f3183f36aa6f8");
    expect(hexId(1n)).toBe("0000000000000001");
  });
});

describe("answers", () => {
  it("reads a member list, with isLearner absent meaning false and unstarted members", () => {
    expect(parseMembers(JSON.parse(MEMBER_LIST))).toEqual([
      {
        id: LEARNER_ID,
        name: "",
        peerURLs: ["http://127.33.1.4:2380"],
        clientURLs: [],
        isLearner: true,
      },
      {
        id: 5275348575715169573n,
        name: "m3",
        peerURLs: ["http://127.33.1.3:2380"],
        clientURLs: ["http://127.33.1.3:2379"],
        isLearner: false,
      },
      {
        id: BIG_ID,
        name: "m1",
        peerURLs: ["http://127.33.1.1:2380"],
        clientURLs: ["http://127.33.1.1:2379"],
        isLearner: false,
      },
    ]);
  });

  it("reads a status", () => {
    expect(parseStatus(JSON.parse(STATUS))).toEqual({
      header: { clusterId: 11883329334696902680n, memberId: BIG_ID, revision: 2n, raftTerm: 2n },
      version: "3.4.23",
      dbSize: 20480n,
      dbSizeInUse: 16384n,
      leader: BIG_ID,
      raftIndex: 12n,
      raftTerm: 2n,
      raftAppliedIndex: 12n,
      errors: ["memberID:13731248231670261496 alarm:NOSPACE "],
      isLearner: false,
    });
    expect(parseStatus(JSON.parse(LEARNER_STATUS))).toMatchObject({ isLearner: true, errors: [] });
    // A member that knows no leader leaves the field out (0).
    expect(parseStatus({ header: {} }).leader).toBe(0n);
  });

  it("reads health as etcd 3.4 and 3.5 write it", () => {
    expect(parseHealth({ health: "true" })).toEqual({ healthy: true });
    expect(parseHealth({ health: "false" })).toEqual({ healthy: false });
    expect(parseHealth({ health: "false", reason: "RAFT NO LEADER" })).toEqual({
      healthy: false,
      reason: "RAFT NO LEADER",
    });
    expect(() => parseHealth({ health: "maybe" })).toThrow('health is neither "true" nor "false"');
  });

  it("reads alarms, leaving out NONE", () => {
    expect(parseAlarms({})).toEqual([]);
    expect(
      parseAlarms({ alarms: [{ memberID: "13731248231670261496", alarm: "NOSPACE" }] }),
    ).toEqual([{ memberId: BIG_ID, alarm: "NOSPACE" }]);
    expect(
      parseAlarms({ alarms: [{ memberID: "1" }, { memberID: "2", alarm: "CORRUPT" }] }),
    ).toEqual([{ memberId: 2n, alarm: "CORRUPT" }]);
    expect(() => parseAlarms({ alarms: [{ memberID: "1", alarm: "HOT" }] })).toThrow(
      "not a known alarm",
    );
  });

  it("reads a range with base64 keys and values", () => {
    expect(parseRange(JSON.parse(RANGE))).toMatchObject({
      kvs: [{ key: "foo", value: "bar", createRevision: 2n, modRevision: 2n, version: 1n }],
      count: 1n,
    });
  });
});

describe("etcd error bodies", () => {
  it.each([
    [
      "etcdserver: can only promote a learner member which is in sync with leader",
      9,
      "learnerNotReady",
      "notReady",
    ],
    ["etcdserver: can only promote a learner member", 9, "memberNotLearner", "terminal"],
    ["etcdserver: Peer URLs already exists", 9, "peerURLExists", "terminal"],
    ["etcdserver: member ID already exist", 9, "memberExists", "terminal"],
    [
      "etcdserver: re-configuration failed due to not enough started members",
      9,
      "notEnoughStartedMembers",
      "transient",
    ],
    ["etcdserver: unhealthy cluster", 14, "unhealthyCluster", "transient"],
    ["etcdserver: member not found", 5, "memberNotFound", "terminal"],
    ["etcdserver: too many learner members in cluster", 9, "tooManyLearners", "notReady"],
    ["etcdserver: rpc not supported for learner", 14, "notSupportedForLearner", "transient"],
    ["etcdserver: mvcc: database space exceeded", 8, "noSpace", "terminal"],
    ["etcdserver: something new", 14, undefined, "transient"],
    ["etcdserver: something else new", 9, undefined, "terminal"],
  ] as const)("maps %j", (message, code, known, kind) => {
    const body = parseEtcdErrorBody(JSON.parse(etcdError(message, code)));
    expect(body).toEqual({ code, message, known });
    const error = new EtcdRequestError({
      failure: "etcd",
      endpoint: "http://10.0.0.1:2379",
      path: "/v3/cluster/member/promote",
      detail: message,
      etcd: body,
    });
    expect(error.kind).toBe(kind);
    expect(error.message).toBe(`etcd http://10.0.0.1:2379 /v3/cluster/member/promote: ${message}`);
  });

  it("reads the 3.5 body without an `error` field, and nothing from an ordinary answer", () => {
    expect(parseEtcdErrorBody({ code: 5, message: "etcdserver: member not found" })).toMatchObject({
      known: "memberNotFound",
    });
    expect(parseEtcdErrorBody({ health: "true" })).toBeUndefined();
    expect(parseEtcdErrorBody("etcdserver: member not found")).toBeUndefined();
  });

  it("says what to do", () => {
    const error = new EtcdRequestError({
      failure: "etcd",
      endpoint: "http://10.0.0.1:2379",
      path: "/v3/cluster/member/promote",
      detail: "x",
      etcd: { code: 9, message: "x", known: "learnerNotReady" },
    });
    expect(error.hint).toBe(
      "wait for the learner to catch up with the leader, then promote it again",
    );
  });
});

/** Replays one recorded answer per path; records what the client sent. */
interface Recorded {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
}

describe("over HTTP", () => {
  let server: Server;
  let base = "";
  const requests: Recorded[] = [];
  const answers = new Map<string, { status: number; body: string } | "hang">();

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        const path = req.url ?? "";
        requests.push({
          method: req.method ?? "",
          path,
          contentType: req.headers["content-type"],
          body,
        });
        const answer = answers.get(path);
        if (answer === "hang") return; // never answers
        res.writeHead(answer?.status ?? 404, { "content-type": "application/json" });
        res.end(answer?.body ?? "404 page not found\n");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const last = () => requests[requests.length - 1];

  it("sends JSON bodies with ids as decimal strings, and {} when a call has no fields", async () => {
    const client = createEtcdClient(`${base}/`);
    expect(client.endpoint).toBe(base);
    answers.set("/v3/cluster/member/remove", { status: 200, body: MEMBER_LIST });
    answers.set("/v3/maintenance/status", { status: 200, body: STATUS });
    answers.set("/v3/maintenance/transfer-leadership", { status: 200, body: "{}" });
    answers.set("/v3/maintenance/alarm", { status: 200, body: "{}" });
    answers.set("/v3/cluster/member/add", {
      status: 200,
      body: `{"header":{},"member":{"ID":"740387094570607032","peerURLs":["http://127.33.1.4:2380"],"isLearner":true},"members":[]}`,
    });

    const remaining = await client.memberRemove(BIG_ID);
    expect(remaining.map((m) => m.id)).toContain(BIG_ID);
    expect(last()).toEqual({
      method: "POST",
      path: "/v3/cluster/member/remove",
      contentType: "application/json",
      body: '{"ID":"13731248231670261496"}',
    });
    await client.status();
    expect(last()?.body).toBe("{}");
    await client.transferLeadership(LEARNER_ID);
    expect(last()?.body).toBe('{"targetID":"740387094570607032"}');
    await client.alarms();
    expect(last()?.body).toBe('{"action":"GET","memberID":"0","alarm":"NONE"}');
    await client.deactivateAlarm(BIG_ID, "NOSPACE");
    expect(last()?.body).toBe(
      '{"action":"DEACTIVATE","memberID":"13731248231670261496","alarm":"NOSPACE"}',
    );
    const added = await client.memberAdd(["http://127.33.1.4:2380"], { isLearner: true });
    expect(added.member).toMatchObject({ id: LEARNER_ID, isLearner: true, name: "" });
    expect(last()?.body).toBe('{"peerURLs":["http://127.33.1.4:2380"],"isLearner":true}');
  });

  it("turns an etcd error body into a typed error carrying etcd's message", async () => {
    const message = "etcdserver: can only promote a learner member which is in sync with leader";
    answers.set("/v3/cluster/member/promote", { status: 400, body: etcdError(message, 9) });
    const error = await createEtcdClient(base)
      .memberPromote(LEARNER_ID)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EtcdRequestError);
    expect(isEtcdError(error, "learnerNotReady")).toBe(true);
    expect(error).toMatchObject({
      failure: "etcd",
      httpStatus: 400,
      kind: "notReady",
      detail: message,
      message: `etcd ${base} /v3/cluster/member/promote: ${message}`,
    });
  });

  it("reads 503 from /health as an unhealthy answer, not a failure", async () => {
    answers.set("/health", { status: 503, body: '{"health":"false"}' });
    expect(await createEtcdClient(base).health()).toEqual({ healthy: false });
    expect(last()).toMatchObject({ method: "GET", path: "/health", body: "" });
  });

  it("says when the answer is not etcd's", async () => {
    const notFound = await createEtcdClient(base)
      .memberList()
      .catch((e: unknown) => e);
    expect(notFound).toMatchObject({
      failure: "bad-response",
      kind: "terminal",
      detail: "HTTP 404 with a body that is not JSON: 404 page not found",
    });
    answers.set("/v3/cluster/member/list", { status: 200, body: '{"members":"m1"}' });
    const shape = await createEtcdClient(base)
      .memberList()
      .catch((e: unknown) => e);
    expect(shape).toMatchObject({
      failure: "bad-response",
      detail: "unexpected answer: members is not a list",
    });
  });

  it("gives up after the time limit, and when the caller cancels", async () => {
    answers.set("/v3/kv/range", "hang");
    const client = createEtcdClient(base, { timeoutMs: 100 });
    const timedOut = await client.range("k").catch((e: unknown) => e);
    expect(timedOut).toMatchObject({
      failure: "timeout",
      kind: "transient",
      detail: "no answer within 100 ms",
    });

    const controller = new AbortController();
    const pending = client
      .range("k", { timeoutMs: 10_000, signal: controller.signal })
      .catch((e: unknown) => e);
    controller.abort();
    expect(await pending).toMatchObject({ failure: "aborted", detail: "cancelled" });
  });

  it("says when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await createEtcdClient(`http://127.0.0.1:${port}`)
      .status()
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      failure: "unreachable",
      kind: "transient",
      detail: "connection refused",
    });
    expect((error as EtcdRequestError).hint).toBe(
      `check that etcd runs at http://127.0.0.1:${port} and that the client port is reachable`,
    );
  });

  it("refuses URLs that are not http or https", () => {
    expect(() => createEtcdClient("unix:///run/etcd.sock")).toThrow(
      "etcd client URL must be http or https",
    );
    expect(() => createEtcdClient("10.0.0.1:2379")).toThrow();
  });
});
