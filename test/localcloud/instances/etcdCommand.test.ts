import { describe, expect, it } from "vitest";
import {
  etcdArgs,
  etcdFailureReason,
  instancePaths,
  isEtcdOfInstance,
} from "../../../src/localcloud/instances/etcdCommand.js";
import { testBootSettings } from "./fakeHost.js";

const paths = instancePaths("/var/tmp/localcloud", "i-0abc");
const member = {
  instanceId: "i-0abc",
  privateIp: "127.120.0.2",
  paths,
  settings: testBootSettings(),
};
const peers = {
  state: "new" as const,
  token: "quorate-local-1",
  initialCluster: "i-0abc=http://127.120.0.2:2380,i-0def=http://127.120.0.3:2380",
};

describe("etcdArgs", () => {
  it("starts a new member on its own address with the peer list and the settings", () => {
    expect(etcdArgs(member, peers, "new")).toEqual([
      "--name=i-0abc",
      "--data-dir=/var/tmp/localcloud/i-0abc/etcd",
      "--listen-peer-urls=http://127.120.0.2:2380",
      "--initial-advertise-peer-urls=http://127.120.0.2:2380",
      "--listen-client-urls=http://127.120.0.2:2379",
      "--advertise-client-urls=http://127.120.0.2:2379",
      `--initial-cluster=${peers.initialCluster}`,
      "--initial-cluster-token=quorate-local-1",
      "--initial-cluster-state=new",
      "--heartbeat-interval=100",
      "--election-timeout=1000",
      "--quota-backend-bytes=2147483648",
      "--snapshot-count=10000",
      "--auto-compaction-mode=periodic",
      "--auto-compaction-retention=1h",
      "--enable-v2=false",
      "--logger=zap",
      "--log-outputs=/var/tmp/localcloud/i-0abc/etcd.log",
    ]);
  });

  it("restarts on the data dir as an existing member, without a peer list when none was kept", () => {
    const args = etcdArgs(member, undefined, "existing");
    expect(args).toContain("--initial-cluster-state=existing");
    expect(args.some((a) => a.startsWith("--initial-cluster="))).toBe(false);
  });
});

describe("isEtcdOfInstance", () => {
  const argv = ["/usr/bin/etcd", ...etcdArgs(member, peers, "new")];
  it.each([
    ["this instance's etcd", argv, true],
    ["etcd from PATH", ["etcd", ...argv.slice(1)], true],
    ["another instance's etcd", ["/usr/bin/etcd", "--name=i-0def", "--data-dir=/x"], false],
    ["another program with the same flags", ["/bin/sleep", ...argv.slice(1)], false],
    ["a gone process (empty cmdline)", [], false],
  ])("%s", (_, cmdline, expected) => {
    expect(isEtcdOfInstance(cmdline, paths, "i-0abc")).toBe(expected);
  });
});

describe("etcdFailureReason", () => {
  it("takes the last error-level zap line, with its error", () => {
    const log = [
      '{"level":"info","msg":"starting"}',
      '{"level":"warn","msg":"failed to start etcd","error":"x"}',
      '{"level":"fatal","msg":"discovery failed","error":"couldn\'t find local name \\"a\\" in the initial cluster configuration"}',
      "",
    ].join("\n");
    expect(etcdFailureReason(log)).toBe(
      'discovery failed: couldn\'t find local name "a" in the initial cluster configuration',
    );
  });

  it("falls back to the last plain line (flag errors come before the logger)", () => {
    expect(etcdFailureReason("etcd: unknown flag: --nope\n")).toBe("etcd: unknown flag: --nope");
  });

  it("says nothing when the log has no error", () => {
    expect(etcdFailureReason('{"level":"info","msg":"ready to serve client requests"}\n')).toBe(
      undefined,
    );
    expect(etcdFailureReason("")).toBe(undefined);
  });
});
