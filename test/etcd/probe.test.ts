// How a probe assembles answers: which member list it keeps, what counts as a
// disagreement, and that failures are results. The members here are in-memory
// fakes behind the EtcdClient interface (real etcd: test/integration/etcdGateway.test.ts),
// because disagreeing member lists cannot be produced on demand with real etcd.
import { describe, expect, it } from "vitest";
import type { EtcdClient } from "../../src/etcd/client.js";
import { ETCD_ERRORS, EtcdRequestError } from "../../src/etcd/errors.js";
import { probeCluster } from "../../src/etcd/probe.js";
import type { Alarm, Member, MemberStatus } from "../../src/etcd/types.js";
import { id, member, status, url } from "./probeFixtures.js";

interface FakeMember {
  status?: MemberStatus;
  members?: Member[];
  alarms?: Alarm[];
  /** Every call fails like this when set. */
  down?: "connection refused";
  learner?: boolean;
}

function failure(endpoint: string, path: string, detail: string, known?: keyof typeof ETCD_ERRORS) {
  return new EtcdRequestError(
    known
      ? {
          failure: "etcd",
          endpoint,
          path,
          detail,
          etcd: { code: 14, message: ETCD_ERRORS[known], known },
        }
      : { failure: "unreachable", endpoint, path, detail },
  );
}

function fakeCluster(members: Record<string, FakeMember>) {
  const closed: string[] = [];
  const clientFor = (endpoint: string): EtcdClient => {
    const m = members[endpoint] ?? { down: "connection refused" };
    const answer = async <T>(
      path: string,
      value: T | undefined,
      learnerRefuses = false,
    ): Promise<T> => {
      if (m.down) throw failure(endpoint, path, m.down);
      if (learnerRefuses && m.learner) {
        throw failure(endpoint, path, ETCD_ERRORS.notSupportedForLearner, "notSupportedForLearner");
      }
      if (value === undefined) throw new Error(`fake has no answer for ${path}`);
      return value;
    };
    const unused = () => Promise.reject(new Error("not used by probes"));
    return {
      endpoint,
      health: () => answer("/health", { healthy: true }),
      status: () => answer("/v3/maintenance/status", m.status),
      memberList: () =>
        answer(
          "/v3/cluster/member/list",
          m.members && { header: m.status?.header ?? status(1).header, members: m.members },
          true,
        ),
      alarms: () => answer("/v3/maintenance/alarm", m.alarms ?? [], true),
      range: () => answer("/v3/kv/range", { header: status(1).header, kvs: [], count: 0n }, true),
      memberAdd: unused,
      memberRemove: unused,
      memberPromote: unused,
      activateAlarm: unused,
      deactivateAlarm: unused,
      transferLeadership: unused,
      put: unused,
      version: unused,
      defragment: unused,
      compact: unused,
      close: () => closed.push(endpoint),
    };
  };
  return { clientFor, closed };
}

const three = [member(1), member(2), member(3)];

describe("probeCluster", () => {
  it("keeps the leader's member list and notes members that list something else", async () => {
    const fake = fakeCluster({
      [url(1)]: { status: status(1), members: three },
      [url(2)]: { status: status(2), members: [member(2), member(3)] },
      [url(3)]: { status: status(3), members: three },
    });
    const probe = await probeCluster([url(2), url(1), url(3)], {
      clientFor: fake.clientFor,
      now: () => 7,
    });
    expect(probe.members).toEqual(three);
    expect(probe.membersFrom).toBe(url(1));
    expect(probe.memberListDisagreements).toEqual([
      { endpoint: url(2), memberIds: [id(2), id(3)] },
    ]);
    expect(probe.at).toBe(7);
    expect(probe.endpoints.map((e) => e.endpoint)).toEqual([url(2), url(1), url(3)]);
  });

  it("does not hold a learner's refusals against it", async () => {
    const fake = fakeCluster({
      [url(1)]: { status: status(1), members: three },
      [url(4)]: { status: status(4, { isLearner: true }), learner: true },
    });
    const probe = await probeCluster([url(1), url(4)], {
      clientFor: fake.clientFor,
      linearizableRead: true,
    });
    const learner = probe.endpoints[1];
    expect(learner).toMatchObject({ reachable: true, health: { healthy: true } });
    expect(learner?.error).toBeUndefined();
    expect(learner?.linearizableRead).toBeUndefined();
    expect(learner?.memberIds).toBeUndefined();
    expect(probe.memberListDisagreements).toEqual([]);
    expect(probe.endpoints[0]?.linearizableRead).toEqual({ ok: true });
  });

  it("returns members that do not answer as results, and says why nothing could be listed", async () => {
    const fake = fakeCluster({});
    const probe = await probeCluster([url(1), url(2)], { clientFor: fake.clientFor });
    expect(probe.endpoints).toEqual([
      {
        endpoint: url(1),
        reachable: false,
        error: "connection refused",
        tookMs: expect.any(Number),
      },
      {
        endpoint: url(2),
        reachable: false,
        error: "connection refused",
        tookMs: expect.any(Number),
      },
    ]);
    expect(probe.members).toBeUndefined();
    expect(probe.memberListError).toBe(
      `${url(1)}: connection refused; ${url(2)}: connection refused`,
    );
    expect(probe.alarms).toBeUndefined();
    expect(probe.alarmsError).toBe(`${url(1)}: connection refused; ${url(2)}: connection refused`);
  });

  it("turns an endpoint that is not a URL into a result, and probes each endpoint once", async () => {
    const probe = await probeCluster(["10.0.0.9", "http://127.0.0.1:9/", "http://127.0.0.1:9"], {
      timeoutMs: 500,
    });
    expect(probe.endpoints).toHaveLength(2);
    expect(probe.endpoints[0]).toMatchObject({
      endpoint: "10.0.0.9",
      reachable: false,
      error: "not an etcd client URL: 10.0.0.9: write it like http://10.0.0.1:2379 or https://...",
    });
    expect(probe.endpoints[1]).toMatchObject({ reachable: false });
  });

  it("leaves clients it was given open for their owner", async () => {
    const fake = fakeCluster({ [url(1)]: { status: status(1), members: three } });
    await probeCluster([url(1)], { clientFor: fake.clientFor });
    expect(fake.closed).toEqual([]);
  });
});
