// The local cloud's instance runtime with real etcd 3.4 processes. A small
// in-memory host (test/localcloud/instances/fakeHost.ts) stands in for the
// engine (CloudFormation, Auto Scaling, EC2), which is tested on its own: here
// the test plays quorate and the engine, publishing peer lists as instance
// tags and changing membership through the etcd HTTP gateway.
//
// The tests are steps of one story: each starts from the instances, runtime and
// cluster the step before it left (describe.sequential says so to vitest).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../src/localcloud/instances/etcdProcess.js";
import { killRecordedInstanceProcesses } from "../../src/localcloud/instances/recordedProcesses.js";
import { createInstanceRuntime } from "../../src/localcloud/instances/runtime.js";
import type {
  InstanceRuntime,
  InstanceSpec,
  RuntimeRecord,
} from "../../src/localcloud/instances/types.js";
import { peerListTags } from "../../src/render/contract.js";
import { type WaitOptions, waitFor } from "../helpers/waitFor.js";
import {
  FakeHost,
  ignitionUserData,
  randomLoopbackPrefix,
  testBootSettings,
} from "../localcloud/instances/fakeHost.js";

const prefix = randomLoopbackPrefix(0);
const settings = testBootSettings();
const userData = ignitionUserData(settings);
const host = new FakeHost();
const events: Record<string, unknown>[] = [];
const runtimes: InstanceRuntime[] = [];
let dataDir: string;

const WAIT: WaitOptions = { timeoutMs: 25_000 };

const spec = (n: number): InstanceSpec => ({
  instanceId: `i-etcd${n}`,
  privateIp: `${prefix}.${n}`,
  imageId: "ami-0local",
  userDataBase64: userData,
});
const clientUrl = (n: number) => `http://${prefix}.${n}:${settings.clientPort}`;
const peerUrl = (n: number) => `http://${prefix}.${n}:${settings.peerPort}`;

function newRuntime(): InstanceRuntime {
  const runtime = createInstanceRuntime({
    dataDir,
    etcdBinary: "/usr/bin/etcd",
    bootDelayMs: 100,
    stopGraceMs: 3_000,
    imdsPort: 8_080,
    host,
    log: (event) => events.push(event),
  });
  runtimes.push(runtime);
  return runtime;
}

async function gateway<T>(n: number, path: string, body: unknown = {}): Promise<T> {
  const res = await fetch(`${clientUrl(n)}${path}`, {
    method: "POST",
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(2_000),
  });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

interface Member {
  ID: string;
  name?: string;
  peerURLs: string[];
  isLearner?: boolean;
}
const members = async (n: number) =>
  (await gateway<{ members: Member[] }>(n, "/v3/cluster/member/list")).members;

/**
 * Status requests member n's etcd has answered since its process started, by
 * etcd's own counter. The bootstrap asks for the status at every readiness
 * poll, so this counts its polls (and the test's own status requests).
 */
async function statusRequests(n: number): Promise<number> {
  const res = await fetch(`${clientUrl(n)}/metrics`, { signal: AbortSignal.timeout(2_000) });
  let total = 0;
  for (const line of (await res.text()).split("\n")) {
    if (line.startsWith("grpc_server_handled_total{") && line.includes('grpc_method="Status"')) {
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return total;
}

async function healthy(n: number): Promise<boolean> {
  const res = await fetch(`${clientUrl(n)}/health`, { signal: AbortSignal.timeout(2_000) });
  return ((await res.json()) as { health?: string }).health === "true";
}

/** pids of every process whose command line runs on this test's data dir. */
function etcdPidsOnDataDir(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(`--data-dir=${dataDir}/`) && isAlive(Number(entry))) {
        pids.push(Number(entry));
      }
    } catch {
      // gone meanwhile
    }
  }
  return pids.sort((a, b) => a - b);
}

const pidOf = (runtime: InstanceRuntime, id: string) =>
  runtime.records().find((r) => r.instanceId === id)?.pid;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "quorate-instances-"));
});

afterAll(async () => {
  for (const runtime of runtimes) await runtime.stopAll().catch(() => {});
  await killRecordedInstanceProcesses(dataDir, 1_000);
  for (const pid of etcdPidsOnDataDir()) process.kill(pid, "SIGKILL");
  await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe.sequential("instance runtime with real etcd", () => {
  let runtime: InstanceRuntime;

  it("boots three instances from a published peer list into one healthy cluster", async () => {
    runtime = newRuntime();
    for (const n of [1, 2, 3]) runtime.launch(spec(n));
    await waitFor(
      "all three waiting for peers",
      () => {
        for (const n of [1, 2, 3]) expect(host.lastPhase(`i-etcd${n}`)).toBe("waiting-for-peers");
      },
      WAIT,
    );
    const peers = peerListTags({
      state: "new",
      token: "quorate-local-test",
      initialCluster: [1, 2, 3].map((n) => `i-etcd${n}=${peerUrl(n)}`).join(","),
    });
    for (const n of [1, 2, 3]) host.addTags(`i-etcd${n}`, peers);

    await waitFor("three signals", () => expect(host.signals).toHaveLength(3), WAIT);
    expect(host.signals.every((s) => s.status === "SUCCESS")).toBe(true);
    const list = await members(1);
    expect(list.map((m) => m.name).sort()).toEqual(["i-etcd1", "i-etcd2", "i-etcd3"]);
    expect(list.some((m) => m.isLearner)).toBe(false);
    for (const n of [1, 2, 3]) expect(await healthy(n)).toBe(true);
    for (const n of [1, 2, 3]) {
      expect(host.phasesOf(`i-etcd${n}`)).toEqual([
        "booting",
        "waiting-for-peers",
        "starting-etcd",
        "running",
        "signalled",
      ]);
    }
    const pids = runtime.records().map((r) => r.pid);
    expect(pids.every((pid) => pid !== undefined && isAlive(pid))).toBe(true);
    expect(etcdPidsOnDataDir()).toEqual([...(pids as number[])].sort((a, b) => a - b));
    // etcd logs to its file, not to our stdout.
    expect(readFileSync(join(dataDir, "i-etcd1", "etcd.log"), "utf8")).toContain(
      "starting an etcd server",
    );
  }, 40_000);

  it("brings a killed member back with restartEtcd, without signalling again", async () => {
    const before = pidOf(runtime, "i-etcd2") as number;
    runtime.killEtcd("i-etcd2");
    await waitFor(
      "i-etcd2's etcd exited",
      () => expect(host.lastPhase("i-etcd2")).toBe("etcd-exited"),
      WAIT,
    );
    expect(isAlive(before)).toBe(false);
    expect(pidOf(runtime, "i-etcd2")).toBeUndefined();

    await runtime.restartEtcd("i-etcd2");
    const after = pidOf(runtime, "i-etcd2") as number;
    expect(after).not.toBe(before);
    await waitFor("i-etcd2 healthy", async () => expect(await healthy(2)).toBe(true), WAIT);
    expect((await members(2)).length).toBe(3);
    expect(host.signalsOf("i-etcd2")).toHaveLength(1);
    const args = readFileSync(`/proc/${after}/cmdline`, "utf8").split("\0");
    expect(args).toContain("--initial-cluster-state=existing");
  }, 40_000);

  it("pauses and resumes a member", async () => {
    runtime.pauseEtcd("i-etcd3");
    expect(host.lastPhase("i-etcd3")).toBe("paused");
    const pid = pidOf(runtime, "i-etcd3") as number;
    await waitFor(
      "i-etcd3 stopped",
      () => expect(readFileSync(`/proc/${pid}/stat`, "utf8")).toMatch(/\) T /),
      WAIT,
    );
    runtime.resumeEtcd("i-etcd3");
    expect(host.lastPhase("i-etcd3")).toBe("signalled");
    await waitFor("i-etcd3 healthy", async () => expect(await healthy(3)).toBe(true), WAIT);
  }, 30_000);

  it("holds a learner's signal until the learner is promoted", async () => {
    // etcd refuses membership changes until every member has been connected for
    // 5 s ("unhealthy cluster"), and i-etcd2 and i-etcd3 were just down: retry.
    const added = await waitFor(
      "a learner added for i-etcd4",
      () =>
        gateway<{ member: Member }>(1, "/v3/cluster/member/add", {
          peerURLs: [peerUrl(4)],
          isLearner: true,
        }),
      WAIT,
    );
    runtime.launch(spec(4));
    await waitFor(
      "i-etcd4 waiting for peers",
      () => expect(host.lastPhase("i-etcd4")).toBe("waiting-for-peers"),
      WAIT,
    );
    host.addTags(
      "i-etcd4",
      peerListTags({
        state: "existing",
        token: "quorate-local-test",
        initialCluster: [1, 2, 3, 4].map((n) => `i-etcd${n}=${peerUrl(n)}`).join(","),
      }),
    );
    await waitFor(
      "i-etcd4 a learner",
      async () => {
        const status = await gateway<{ isLearner?: boolean }>(4, "/v3/maintenance/status");
        expect(status.isLearner).toBe(true);
      },
      WAIT,
    );
    expect(host.lastPhase("i-etcd4")).toBe("running");
    const args = readFileSync(`/proc/${pidOf(runtime, "i-etcd4")}/cmdline`, "utf8").split("\0");
    expect(args).toContain("--initial-cluster-state=existing");
    // Three more readiness polls found the healthy learner, and none signalled.
    const polled = await statusRequests(4);
    await waitFor(
      "three more readiness polls of the learner",
      async () => (await statusRequests(4)) >= polled + 3,
      WAIT,
    );
    expect(host.signalsOf("i-etcd4")).toEqual([]);

    // etcd refuses to promote a learner that has not caught up yet: retry.
    await waitFor(
      "the learner promoted",
      () => gateway(1, "/v3/cluster/member/promote", { ID: added.member.ID }),
      WAIT,
    );
    await waitFor(
      "i-etcd4's signal",
      () => expect(host.signalsOf("i-etcd4")).toHaveLength(1),
      WAIT,
    );
    expect(host.signalsOf("i-etcd4")[0]?.status).toBe("SUCCESS");
    expect(host.lastPhase("i-etcd4")).toBe("signalled");
  }, 60_000);

  it("terminates an instance: its etcd is gone and its data removed", async () => {
    const id = (await members(2)).find((m) => m.name === "i-etcd1")?.ID;
    // What quorate's terminating hook does (retried like the add above).
    await waitFor(
      "i-etcd1 removed",
      () => gateway(2, "/v3/cluster/member/remove", { ID: id }),
      WAIT,
    );
    const pid = pidOf(runtime, "i-etcd1") as number;
    await runtime.terminate("i-etcd1");
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(join(dataDir, "i-etcd1"))).toBe(false);
    expect(host.lastPhase("i-etcd1")).toBe("terminated");
    expect(runtime.records().map((r) => r.instanceId)).toEqual(["i-etcd2", "i-etcd3", "i-etcd4"]);
    // Removing i-etcd1 may have removed the leader: allow an election.
    await waitFor("i-etcd2 healthy", async () => expect(await healthy(2)).toBe(true), WAIT);
  }, 30_000);

  let records: RuntimeRecord[] = [];

  it("after a crash, a new runtime adopts the running etcd processes", async () => {
    records = runtime.records();
    const pids = etcdPidsOnDataDir();
    expect(pids).toHaveLength(3);
    await runtime.detach(); // the local cloud dies; etcd keeps running

    runtime = newRuntime();
    const signalsBefore = host.signals.length;
    for (const record of records) {
      await runtime.restore(spec(Number(record.instanceId.slice(-1))), record);
    }
    expect(runtime.records().map((r) => r.pid)).toEqual(records.map((r) => r.pid));
    expect(etcdPidsOnDataDir()).toEqual(pids); // no second etcd
    expect(runtime.records().every((r) => r.phase === "signalled")).toBe(true);
    expect(events.filter((e) => e.event === "etcd-adopted")).toHaveLength(3);
    // The metadata services are back.
    const token = await fetch(`http://${prefix}.2:8080/latest/api/token`, {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
    });
    expect(token.status).toBe(200);
    // An adopted process is watched by polling: a kill is still noticed.
    runtime.killEtcd("i-etcd3");
    await waitFor(
      "i-etcd3's etcd exited",
      () => expect(host.lastPhase("i-etcd3")).toBe("etcd-exited"),
      WAIT,
    );
    await runtime.restartEtcd("i-etcd3");
    await waitFor("i-etcd3 healthy", async () => expect(await healthy(3)).toBe(true), WAIT);
    expect(host.signals.length).toBe(signalsBefore);
  }, 40_000);

  it("after the daemon died, killRecordedInstanceProcesses stops its etcd and a restore restarts them", async () => {
    records = runtime.records();
    await runtime.detach();
    const pids = etcdPidsOnDataDir();
    const killed = await killRecordedInstanceProcesses(dataDir, 2_000);
    expect(killed.sort((a, b) => a - b)).toEqual(pids);
    expect(etcdPidsOnDataDir()).toEqual([]);

    runtime = newRuntime();
    for (const record of records) {
      await runtime.restore(spec(Number(record.instanceId.slice(-1))), record);
    }
    const restarted = runtime.records().map((r) => r.pid as number);
    expect(restarted.some((pid) => pids.includes(pid))).toBe(false);
    await waitFor(
      "i-etcd2, 3 and 4 healthy",
      async () => {
        for (const n of [2, 3, 4]) expect(await healthy(n)).toBe(true);
      },
      WAIT,
    );
    expect((await members(2)).map((m) => m.name).sort()).toEqual(["i-etcd2", "i-etcd3", "i-etcd4"]);
    expect(host.signals.length).toBe(4);
  }, 40_000);

  it("stopAll leaves no etcd process and keeps the data", async () => {
    const pids = runtime.records().map((r) => r.pid as number);
    await runtime.stopAll();
    expect(pids.some(isAlive)).toBe(false);
    expect(etcdPidsOnDataDir()).toEqual([]);
    for (const n of [2, 3, 4]) expect(existsSync(join(dataDir, `i-etcd${n}`, "etcd"))).toBe(true);
  }, 30_000);

  it("reports why etcd exited when it cannot start, and sends no signal", async () => {
    runtime = newRuntime();
    host.addTags(
      "i-etcd5",
      peerListTags({ state: "new", token: "t", initialCluster: `someone-else=${peerUrl(5)}` }),
    );
    runtime.launch(spec(5));
    await waitFor(
      "i-etcd5's etcd exited",
      () => expect(host.lastPhase("i-etcd5")).toBe("etcd-exited"),
      WAIT,
    );
    expect(host.phases.at(-1)?.detail).toMatch(/exited with code 1: .*couldn't find local name/);
    expect(host.signalsOf("i-etcd5")).toEqual([]);
    await runtime.terminate("i-etcd5");
  }, 30_000);

  it("gives up on a learner whose etcd exited after it was healthy, as the bootstrap does", async () => {
    // A one-member cluster, so that a learner can be added at once.
    host.addTags(
      "i-etcd6",
      peerListTags({ state: "new", token: "solo", initialCluster: `i-etcd6=${peerUrl(6)}` }),
    );
    runtime.launch(spec(6));
    await waitFor(
      "i-etcd6's signal",
      () => expect(host.signalsOf("i-etcd6")).toHaveLength(1),
      WAIT,
    );
    const added = await waitFor(
      "a learner added for i-etcd7",
      () =>
        gateway<{ member: Member }>(6, "/v3/cluster/member/add", {
          peerURLs: [peerUrl(7)],
          isLearner: true,
        }),
      WAIT,
    );
    host.addTags(
      "i-etcd7",
      peerListTags({
        state: "existing",
        token: "solo",
        initialCluster: `i-etcd6=${peerUrl(6)},i-etcd7=${peerUrl(7)}`,
      }),
    );
    runtime.launch(spec(7));
    await waitFor(
      "i-etcd7 polled as a learner",
      () => {
        expect(events.some((e) => e.instanceId === "i-etcd7" && e.reason === "learner")).toBe(true);
      },
      WAIT,
    );
    runtime.killEtcd("i-etcd7");
    await waitFor(
      "i-etcd7's etcd exited",
      () => expect(host.lastPhase("i-etcd7")).toBe("etcd-exited"),
      WAIT,
    );
    expect(events.some((e) => e.instanceId === "i-etcd7" && e.event === "bootstrap-gave-up")).toBe(
      true,
    );
    const restartedAt = events.length;
    await runtime.restartEtcd("i-etcd7");
    await waitFor(
      "the learner promoted",
      () => gateway(6, "/v3/cluster/member/promote", { ID: added.member.ID }),
      WAIT,
    );
    let ownStatusRequests = 0;
    await waitFor(
      "i-etcd7 voting and healthy",
      async () => {
        ownStatusRequests++;
        const status = await gateway<{ isLearner?: boolean }>(7, "/v3/maintenance/status");
        expect(status.isLearner).toBeUndefined();
        expect(await healthy(7)).toBe(true);
      },
      WAIT,
    );
    // A bootstrap that had resumed would have polled before it could signal: at
    // once, finding etcd not yet up ("etcd-not-ready"), then the status of the
    // learner and of the voting member. The restarted etcd answered only the
    // test's own status requests, and the runtime logged no poll.
    expect(await statusRequests(7)).toBeLessThanOrEqual(ownStatusRequests);
    expect(
      events
        .slice(restartedAt)
        .filter((e) => e.instanceId === "i-etcd7" && e.event === "etcd-not-ready"),
    ).toEqual([]);
    await runtime.stopAll();
    // Stopped, it can never signal: none in its whole life.
    expect(host.signalsOf("i-etcd7")).toEqual([]);
  }, 45_000);
});
