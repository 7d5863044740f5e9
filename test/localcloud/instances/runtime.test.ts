// The runtime without etcd processes: boot, metadata and termination. The
// etcd side is in test/integration/instanceRuntime.test.ts.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QuorateError } from "../../../src/errors.js";
import { createInstanceRuntime } from "../../../src/localcloud/instances/runtime.js";
import type {
  InstanceRuntime,
  InstanceRuntimeOptions,
  RuntimeRecord,
} from "../../../src/localcloud/instances/types.js";
import { waitFor } from "../../helpers/waitFor.js";
import { FakeHost, ignitionUserData, randomLoopbackPrefix, testBootSettings } from "./fakeHost.js";

const prefix = randomLoopbackPrefix();
let dataDir: string;
const runtimes: InstanceRuntime[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "quorate-runtime-"));
});
afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.stopAll()));
  await rm(dataDir, { recursive: true, force: true });
});

function runtime(
  host: FakeHost,
  extra: Pick<InstanceRuntimeOptions, "withoutEtcd" | "log"> = {},
): InstanceRuntime {
  const r = createInstanceRuntime({
    dataDir,
    bootDelayMs: 20,
    stopGraceMs: 1_000,
    imdsPort: 8_081,
    host,
    // A binary that does not exist: none of these tests may start etcd.
    etcdBinary: "/nonexistent/etcd",
    ...extra,
  });
  runtimes.push(r);
  return r;
}

const spec = (n: number, userDataBase64 = ignitionUserData(testBootSettings())) => ({
  instanceId: `i-unit${n}`,
  privateIp: `${prefix}.${n}`,
  imageId: "ami-0123",
  userDataBase64,
});

describe("instance runtime without etcd", () => {
  it("withoutEtcd: signals SUCCESS right after boot and runs no process", async () => {
    const host = new FakeHost();
    const logs: Record<string, unknown>[] = [];
    const r = runtime(host, { withoutEtcd: true, log: (e) => logs.push(e) });
    expect(logs.some((e) => e.event === "runtime-without-etcd")).toBe(true);
    r.launch(spec(1));
    await waitFor("i-unit1's signal", () => expect(host.signalsOf("i-unit1")).toHaveLength(1));
    expect(host.signalsOf("i-unit1")[0]?.status).toBe("SUCCESS");
    expect(host.phasesOf("i-unit1")).toEqual(["booting", "signalled"]);
    expect(r.records()).toEqual([
      {
        instanceId: "i-unit1",
        privateIp: spec(1).privateIp,
        phase: "signalled",
        etcdStarted: false,
        signal: "SUCCESS",
      },
    ]);
    expect(existsSync(join(dataDir, "i-unit1"))).toBe(false);
    await r.terminate("i-unit1");
    expect(host.lastPhase("i-unit1")).toBe("terminated");
    expect(r.records()).toEqual([]);
  });

  it("waits for the peer list over its own metadata service, then terminates cleanly", async () => {
    const host = new FakeHost();
    const r = runtime(host);
    r.launch(spec(2));
    await waitFor("i-unit2 waiting for peers", () =>
      expect(host.lastPhase("i-unit2")).toBe("waiting-for-peers"),
    );
    // The metadata service answers on the instance's own address.
    const base = `http://${spec(2).privateIp}:8081`;
    const token = await fetch(`${base}/latest/api/token`, {
      method: "PUT",
      headers: { "x-aws-ec2-metadata-token-ttl-seconds": "60" },
    }).then((res) => res.text());
    const id = await fetch(`${base}/latest/meta-data/instance-id`, {
      headers: { "x-aws-ec2-metadata-token": token },
    }).then((res) => res.text());
    expect(id).toBe("i-unit2");
    // No etcd yet: fault injection says so instead of doing nothing.
    expect(() => r.killEtcd("i-unit2")).toThrow(QuorateError);
    await expect(r.restartEtcd("i-unit2")).rejects.toThrow(/never started/);
    await r.terminate("i-unit2");
    await r.terminate("i-unit2"); // idempotent
    expect(host.phasesOf("i-unit2").slice(-2)).toEqual(["stopping", "terminated"]);
    await expect(fetch(`${base}/latest/api/token`, { method: "PUT" })).rejects.toThrow();
    expect(existsSync(join(dataDir, "i-unit2"))).toBe(false);
    expect(host.signals).toEqual([]);
  });

  it.each([
    ["user-data without the settings file", Buffer.from("{}").toString("base64"), /does not write/],
    [
      "TLS, which the local cloud does not run",
      ignitionUserData(testBootSettings({ scheme: "https" })),
      /without TLS/,
    ],
  ])("fails the boot on %s, sending no signal (as the script)", async (_, userData, detail) => {
    const host = new FakeHost();
    const r = runtime(host);
    r.launch(spec(3, userData));
    await waitFor("i-unit3's boot failed", () =>
      expect(host.lastPhase("i-unit3")).toBe("boot-failed"),
    );
    expect(host.phases.at(-1)?.detail).toMatch(detail);
    expect(host.signals).toEqual([]);
    await r.terminate("i-unit3");
  });

  it("restores an instance that had not started etcd by booting it again", async () => {
    const host = new FakeHost();
    const before = runtime(host);
    before.launch(spec(6));
    await waitFor("i-unit6 waiting for peers", () =>
      expect(host.lastPhase("i-unit6")).toBe("waiting-for-peers"),
    );
    const [record] = before.records();
    expect(record).toMatchObject({ phase: "waiting-for-peers", etcdStarted: false });
    await before.detach(); // the local cloud dies
    expect(() => before.launch(spec(7))).toThrow(/detached/);

    const after = runtime(host);
    await after.restore(spec(6), record as RuntimeRecord);
    await waitFor("i-unit6 booted", () =>
      expect(host.phasesOf("i-unit6").slice(-2)).toEqual(["booting", "waiting-for-peers"]),
    );
    await after.terminate("i-unit6");
  });

  it("refuses to launch an instance twice, or after stopAll", async () => {
    const host = new FakeHost();
    const r = runtime(host);
    r.launch(spec(4));
    expect(() => r.launch(spec(4))).toThrow(/already runs/);
    await r.stopAll();
    expect(() => r.launch(spec(5))).toThrow(/stopped/);
    expect(r.records().map((x) => x.instanceId)).toEqual(["i-unit4"]);
  });
});
