// Plays quorate's part against the local cloud (docs/architecture.md#rollout-supervision),
// speaking only through the AWS SDK clients and the etcd gateway: on
// Pending:Wait it publishes the peer list as instance tags and completes the
// hook (all N addresses for a new cluster; a learner added first for an
// existing one), promotes learners once they have caught up, and on
// Terminating:Wait removes the member before completing the hook.
import {
  type AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
} from "@aws-sdk/client-auto-scaling";
import { CreateTagsCommand, DescribeInstancesCommand, type EC2Client } from "@aws-sdk/client-ec2";
import { createEtcdClient } from "../../src/etcd/client.js";
import type { Member } from "../../src/etcd/types.js";
import { HOOK_NAME, peerListTags } from "../../src/render/contract.js";

export interface ActorOptions {
  asg: AutoScalingClient;
  ec2: EC2Client;
  groupName: string;
  size: number;
  token: string;
  clientPort?: number;
  peerPort?: number;
}

export class QuorateActor {
  readonly log: string[] = [];
  private readonly handled = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** When false, the actor leaves lifecycle hooks alone (as if quorate were down). */
  completeHooks = true;

  constructor(private readonly options: ActorOptions) {}

  start(intervalMs = 200): void {
    const loop = async () => {
      if (this.stopped) return;
      this.running = this.tick().catch((error: unknown) => {
        this.log.push(`tick error: ${(error as Error).message}`);
      });
      await this.running;
      if (!this.stopped) this.timer = setTimeout(loop, intervalMs);
    };
    void loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private clientUrl(ip: string): string {
    return `http://${ip}:${this.options.clientPort ?? 2379}`;
  }

  private peerUrl(ip: string): string {
    return `http://${ip}:${this.options.peerPort ?? 2380}`;
  }

  async tick(): Promise<void> {
    const { asg, ec2, groupName } = this.options;
    const out = await asg.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
    );
    const group = out.AutoScalingGroups?.[0];
    if (!group) return;
    const instances = group.Instances ?? [];
    if (instances.length === 0) return;
    const described = await ec2.send(
      new DescribeInstancesCommand({ InstanceIds: instances.map((i) => i.InstanceId ?? "") }),
    );
    const ipOf = new Map<string, string>();
    for (const r of described.Reservations ?? []) {
      for (const i of r.Instances ?? [])
        if (i.PrivateIpAddress) ipOf.set(i.InstanceId ?? "", i.PrivateIpAddress);
    }
    // Members in service answer first; booting or leaving ones may not answer at all.
    const byState = [...instances].sort(
      (a, b) => Number(b.LifecycleState === "InService") - Number(a.LifecycleState === "InService"),
    );
    const members = await this.members(
      byState
        .map((i) => ipOf.get(i.InstanceId ?? ""))
        .filter((ip): ip is string => ip !== undefined),
    );
    if (!this.completeHooks) return;
    // With members in service, an unreadable member list (a busy machine) is no
    // reason to act blind: wait for the next tick.
    if (!members && instances.some((i) => i.LifecycleState === "InService")) return;

    for (const instance of instances.filter((i) => i.LifecycleState === "Terminating:Wait")) {
      const id = instance.InstanceId ?? "";
      if (this.handled.has(`t:${id}`)) continue;
      const ip = ipOf.get(id);
      const member = members?.list.find((m) => ip && m.peerURLs.includes(this.peerUrl(ip)));
      if (member && members) {
        await members.client.memberRemove(member.id);
        this.log.push(`removed member ${id}`);
      }
      await this.complete(id, HOOK_NAME.terminating);
      this.handled.add(`t:${id}`);
    }

    const waiting = instances.filter(
      (i) => i.LifecycleState === "Pending:Wait" && !this.handled.has(`p:${i.InstanceId}`),
    );
    if (!members) {
      // A new cluster: every member's address goes into one peer list.
      if (waiting.length < this.options.size) return;
      const initialCluster = waiting
        .map((i) => `${i.InstanceId}=${this.peerUrl(ipOf.get(i.InstanceId ?? "") ?? "")}`)
        .join(",");
      for (const i of waiting) {
        await this.tag(i.InstanceId ?? "", "new", initialCluster);
        await this.complete(i.InstanceId ?? "", HOOK_NAME.launching);
        this.handled.add(`p:${i.InstanceId}`);
      }
      this.log.push(`new cluster ${initialCluster}`);
      return;
    }
    for (const i of waiting) {
      const id = i.InstanceId ?? "";
      const ip = ipOf.get(id);
      if (!ip) continue;
      // A member add whose answer timed out on a loaded machine may still have
      // happened: the instance's own learner is reused, not added again (and
      // not mistaken for another learner that blocks it).
      const own = members.list.find((m) => m.peerURLs.includes(this.peerUrl(ip)));
      // etcd 3.4 takes one learner at a time.
      if (!own && members.list.some((m) => m.isLearner)) break;
      const list = own
        ? members.list
        : (await members.client.memberAdd([this.peerUrl(ip)], { isLearner: true })).members;
      const initialCluster = list.map((m) => `${m.name || id}=${m.peerURLs[0] ?? ""}`).join(",");
      await this.tag(id, "existing", initialCluster);
      await this.complete(id, HOOK_NAME.launching);
      this.handled.add(`p:${id}`);
      this.log.push(own ? `reused learner ${id}` : `added learner ${id}`);
      members.list = list;
    }
    for (const learner of members.list.filter((m) => m.isLearner && m.name)) {
      try {
        await members.client.memberPromote(learner.id);
        this.log.push(`promoted ${learner.name}`);
      } catch {
        // not caught up yet: next tick
      }
    }
  }

  /** The member list from the first reachable member, or undefined when no cluster answers. */
  private async members(
    ips: string[],
  ): Promise<{ list: Member[]; client: ReturnType<typeof createEtcdClient> } | undefined> {
    for (const ip of ips) {
      const client = createEtcdClient(this.clientUrl(ip), { timeoutMs: 3000 });
      try {
        const list = await client.memberList();
        return { list: list.members, client };
      } catch {
        client.close();
      }
    }
    return undefined;
  }

  private async tag(
    instanceId: string,
    state: "new" | "existing",
    initialCluster: string,
  ): Promise<void> {
    const tags = peerListTags({ state, token: this.options.token, initialCluster });
    await this.options.ec2.send(
      new CreateTagsCommand({
        Resources: [instanceId],
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }

  private async complete(instanceId: string, hook: string): Promise<void> {
    await this.options.asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: this.options.groupName,
        LifecycleHookName: hook,
        InstanceId: instanceId,
        LifecycleActionResult: "CONTINUE",
      }),
    );
  }
}
