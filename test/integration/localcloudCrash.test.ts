// The local cloud killed with SIGKILL in the middle of a rolling update, and
// started again on the same data directory: no stack, change set or instance
// is lost, the etcd members keep running, and the update completes. Then
// `quorate local down` leaves no etcd process behind.
import { rm } from "node:fs/promises";
import { DescribeChangeSetCommand, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEtcdClient } from "../../src/etcd/client.js";
import { LocalCloudAdmin } from "../../src/localcloud/index.js";
import { waitFor } from "../helpers/waitFor.js";
import {
  allEvents,
  clientsFor,
  eventLines,
  groupOf,
  randomNetwork,
  removeDir,
  tempDir,
  waitForStatus,
} from "../localcloud/cloudHelpers.js";
import {
  cli,
  type Daemon,
  ensureBuilt,
  etcdProcessesUnder,
  freePort,
  isAlive,
  startDaemon,
  waitForExit,
} from "../localcloud/daemonHelpers.js";
import type { QuorateActor } from "../localcloud/quorateActor.js";
import { changeSet, createCluster, devCluster, execute, render } from "../localcloud/stackFlows.js";

let dataDir: string;
let daemon: Daemon | undefined;
let actor: QuorateActor | undefined;

beforeAll(async () => {
  await ensureBuilt();
  dataDir = await tempDir("lc-crash-");
}, 120_000);

afterAll(async () => {
  await actor?.stop();
  if (daemon?.child.exitCode === null) daemon.child.kill("SIGKILL");
  cli(["local", "down", "--data-dir", dataDir]);
  await removeDir(dataDir);
  await rm(`${dataDir}.log`, { force: true });
});

describe("a local cloud killed mid-update", () => {
  it("restarts with everything it had and completes the update; local down leaves no etcd", async () => {
    const port = await freePort();
    const args = [
      "--port",
      String(port),
      "--data-dir",
      dataDir,
      "--time-scale",
      "0.05",
      "--boot-delay",
      "100",
      "--network",
      randomNetwork(),
    ];
    const log = `${dataDir}.log`;
    daemon = await startDaemon(args, log);
    const clients = clientsFor(daemon.endpoint);
    const admin = new LocalCloudAdmin(daemon.endpoint);

    const dev = await devCluster();
    // Terminate first: the crash lands between a termination and its launch (the
    // launch-first rolling update has its own story in localcloudRollingUpdate).
    const cluster = await devCluster({
      name: "dev-crash",
      stackName: "quorate-dev-crash",
      updatePolicy: { ...dev.updatePolicy, order: "terminateFirst", minInstancesInService: 2 },
    });
    const created = await createCluster(clients, cluster);
    actor = created.actor;
    const next = render(cluster, "4152.2.0");
    const update = await changeSet(clients, {
      stackName: cluster.stackName,
      name: "new-image",
      type: "UPDATE",
      templateBody: next.templateBody,
      tags: next.tags,
    });
    await execute(clients, update.id);
    await waitFor(
      "the first batch under way",
      async () => {
        const lines = eventLines(await allEvents(clients.cfn, cluster.stackName));
        return lines.some((l) => l.includes("Successfully terminated instance(s)"));
      },
      { timeoutMs: 60_000 },
    );

    const before = await admin.state();
    const liveBefore = before.instances.filter((i) => i.state !== "terminated");
    const etcdPids = liveBefore.map((i) => i.pid).filter((p): p is number => p !== undefined);
    expect(etcdPids.length).toBeGreaterThanOrEqual(2);
    daemon.child.kill("SIGKILL");
    await waitForExit(daemon.child);
    // The members outlive the local cloud, as instances outlive a control plane.
    expect(etcdPids.every(isAlive)).toBe(true);

    daemon = await startDaemon(args, log);
    const stack = (
      await clients.cfn.send(new DescribeStacksCommand({ StackName: cluster.stackName }))
    ).Stacks![0]!;
    expect(stack.StackStatus).toBe("UPDATE_IN_PROGRESS");
    const executed = await clients.cfn.send(
      new DescribeChangeSetCommand({ ChangeSetName: update.id }),
    );
    expect(executed.ExecutionStatus).toBe("EXECUTE_IN_PROGRESS");
    const described = await clients.ec2.send(
      new DescribeInstancesCommand({ InstanceIds: before.instances.map((i) => i.instanceId) }),
    );
    expect(
      described
        .Reservations!.flatMap((r) => r.Instances ?? [])
        .map((i) => i.InstanceId)
        .sort(),
    ).toEqual(before.instances.map((i) => i.instanceId).sort());

    const status = await waitForStatus(
      clients.cfn,
      cluster.stackName,
      ["UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"],
      150_000,
    );
    const lines = eventLines(await allEvents(clients.cfn, cluster.stackName));
    expect(status, `${lines.join("\n")}\n${actor.log.join("\n")}`).toBe("UPDATE_COMPLETE");
    const group = await groupOf(clients.asg, created.groupName);
    expect(group?.Instances?.map((i) => [i.LifecycleState, i.LaunchTemplate?.Version])).toEqual([
      ["InService", "2"],
      ["InService", "2"],
      ["InService", "2"],
    ]);
    const ids = group!.Instances!.map((i) => i.InstanceId!);
    const now = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    const ip = now.Reservations![0]!.Instances![0]!.PrivateIpAddress!;
    const etcd = createEtcdClient(`http://${ip}:2379`);
    expect((await etcd.memberList()).members.map((m) => m.name).sort()).toEqual([...ids].sort());
    expect((await etcd.health()).healthy).toBe(true);

    await actor.stop();
    const recorded = (await admin.state()).instances
      .map((i) => i.pid)
      .filter((p): p is number => p !== undefined);
    expect(recorded).toHaveLength(3);
    const down = cli(["local", "down", "--data-dir", dataDir]);
    expect(down.status, down.stderr).toBe(0);
    await waitForExit(daemon.child);
    expect(etcdProcessesUnder(dataDir)).toEqual([]);
    expect([...recorded, ...etcdPids].filter(isAlive)).toEqual([]);
  });
});
