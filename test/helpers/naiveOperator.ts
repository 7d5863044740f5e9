// The operator an Auto Scaling Group amounts to when nothing knows about etcd
// (the 2014 failure quorate exists to prevent): every lifecycle hook is
// completed at once, each new instance is added to etcd as a voting member
// (retried until etcd takes it) and handed its peer list, and no departing
// member is ever removed. A test helper for the story of the same upgrade
// without quorate; it speaks only through the AWS SDK and the etcd gateway.
import type { AwsClients } from "../../src/aws/clients.js";
import { completeLifecycleAction, describeGroups } from "../../src/aws/groups.js";
import { describeInstances, type LiveInstance, tagInstance } from "../../src/aws/instances.js";
import { createEtcdClient } from "../../src/etcd/client.js";
import { probeCluster } from "../../src/etcd/probe.js";
import { quorumOf } from "../../src/etcd/quorum.js";
import { buildRoster, isHealthyVoter } from "../../src/etcd/roster.js";
import type { Member } from "../../src/etcd/types.js";
import { HOOK_NAME, peerListTags, readPeerListTags } from "../../src/render/contract.js";

export interface NaiveLine {
  at: string;
  instanceId?: string;
  message: string;
}

export interface NaiveOperator {
  /** What it did and what etcd told it, oldest first; a repeated error is written once. */
  readonly lines: NaiveLine[];
  stop(): Promise<void>;
}

export interface NaiveOperatorOptions {
  aws: AwsClients;
  groupName: string;
  /** --initial-cluster-token of the cluster (its name, as quorate publishes it). */
  token: string;
  clientPort: number;
  peerPort: number;
  intervalMs?: number;
}

export function startNaiveOperator(options: NaiveOperatorOptions): NaiveOperator {
  const lines: NaiveLine[] = [];
  const lastError = new Map<string, string>();
  let stopped = false;
  const say = (message: string, instanceId?: string) =>
    lines.push({ at: new Date().toISOString(), ...(instanceId ? { instanceId } : {}), message });
  const url = (ip: string, port: number) => `http://${ip}:${port}`;

  async function complete(instanceId: string, hook: "launching" | "terminating") {
    const done = await completeLifecycleAction(options.aws.autoScaling, {
      group: options.groupName,
      hook: HOOK_NAME[hook],
      instanceId,
      result: "CONTINUE",
    });
    if (done) say(`${hook} hook completed at once`, instanceId);
  }

  /** The member list from the first instance that answers, with the client URL that answered. */
  async function memberList(endpoints: string[]): Promise<{ members: Member[]; from: string }> {
    let last: unknown;
    for (const endpoint of endpoints) {
      const client = createEtcdClient(endpoint, { timeoutMs: 1000 });
      try {
        return { members: (await client.memberList()).members, from: endpoint };
      } catch (error) {
        last = error;
      } finally {
        client.close();
      }
    }
    throw last ?? new Error("no instance to ask");
  }

  /** `etcdctl member add` (a voter: no learners, no gate), then the peer list as tags. */
  async function join(instance: LiveInstance & { privateIp: string }, endpoints: string[]) {
    const peerURL = url(instance.privateIp, options.peerPort);
    const { members, from } = await memberList(endpoints);
    if (!members.some((m) => m.peerURLs.includes(peerURL))) {
      const client = createEtcdClient(from, { timeoutMs: 2000 });
      try {
        await client.memberAdd([peerURL], { isLearner: false });
      } finally {
        client.close();
      }
      say(`member add ${peerURL} (a voting member)`, instance.instanceId);
    }
    const after = (await memberList(endpoints)).members;
    const initialCluster = after
      .map((m) => `${m.name || instance.instanceId}=${m.peerURLs[0] ?? ""}`)
      .join(",");
    await tagInstance(
      options.aws.ec2,
      instance.instanceId,
      peerListTags({ state: "existing", token: options.token, initialCluster }),
    );
    say(`peer list published (${after.length} members)`, instance.instanceId);
  }

  async function tick() {
    const group = (await describeGroups(options.aws.autoScaling, [options.groupName])).get(
      options.groupName,
    );
    if (!group) return;
    for (const i of group.instances) {
      if (i.lifecycleState === "Terminating:Wait") await complete(i.instanceId, "terminating");
      if (i.lifecycleState === "Pending:Wait") await complete(i.instanceId, "launching");
    }
    const live = await describeInstances(
      options.aws.ec2,
      group.instances.map((i) => i.instanceId),
    );
    const endpoints = group.instances.flatMap((i) => {
      const ip = live.get(i.instanceId)?.privateIp;
      return ip && i.lifecycleState === "InService" ? [url(ip, options.clientPort)] : [];
    });
    for (const i of group.instances) {
      const instance = live.get(i.instanceId);
      if (!instance?.privateIp || readPeerListTags(instance.tags)) continue;
      if (!["Pending:Wait", "Pending:Proceed", "InService"].includes(i.lifecycleState)) continue;
      try {
        await join({ ...instance, privateIp: instance.privateIp }, endpoints);
        lastError.delete(i.instanceId);
      } catch (error) {
        const message = `member add failed: ${(error as Error).message}`;
        if (lastError.get(i.instanceId) !== message) say(message, i.instanceId);
        lastError.set(i.instanceId, message);
      }
    }
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        await tick();
      } catch (error) {
        const message = `error: ${(error as Error).message}`;
        if (lastError.get("") !== message) say(message);
        lastError.set("", message);
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
    }
  })();

  return {
    lines,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

export interface QuorumSample {
  at: number;
  /** Voting members in the list (learners do not vote). */
  voters: number;
  /** Voters that answer, report healthy and agree on a leader. */
  healthyVoters: number;
  quorum: number;
  leader: boolean;
  /** Why each voter that is not healthy is not, for failure messages. */
  unhealthy: string[];
}

export interface QuorumWatch {
  readonly samples: QuorumSample[];
  stop(): Promise<QuorumSample[]>;
}

/**
 * Samples the cluster's quorum while a rollout runs, whoever runs it: how many
 * voting members the list holds and how many of them answer healthy. The naive
 * operator's story shows it falling; quorate's stories show it never falls.
 */
export function watchQuorum(
  instanceURLs: () => Promise<string[]>,
  options: { intervalMs?: number; timeoutMs?: number } = {},
): QuorumWatch {
  const samples: QuorumSample[] = [];
  let memberURLs: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      // Members held on their way out have no InService instance but still vote.
      const endpoints = [...new Set([...(await instanceURLs()), ...memberURLs])];
      // 2 s: on a loaded 2-core CI machine a healthy member can take over 1 s to answer.
      const probe = await probeCluster(endpoints, { timeoutMs: options.timeoutMs ?? 2000 });
      if (probe.members) memberURLs = probe.members.flatMap((m) => m.clientURLs);
      const roster = buildRoster(probe);
      const voters = roster.entries.filter((e) => !e.member.isLearner);
      if (voters.length > 0) {
        const unhealthy = voters.filter((e) => !isHealthyVoter(e));
        samples.push({
          at: Date.now(),
          voters: voters.length,
          healthyVoters: voters.length - unhealthy.length,
          quorum: quorumOf(voters.length),
          leader: roster.leader.id !== undefined,
          unhealthy: unhealthy.map(
            (e) =>
              `${e.label}: ${e.probe?.error ?? e.probe?.health?.reason ?? (e.probe ? "unhealthy" : "not probed")}`,
          ),
        });
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

/**
 * Samples that show quorum lost for longer than one sample. A single sample
 * in which members did not answer in time can be a leader handing over (a
 * follower's /health waits for the new leader) or a loaded machine; quorum
 * really lost stays lost, and the next sample shows it too.
 */
export function sustainedQuorumLoss(
  samples: readonly QuorumSample[],
  lost: (sample: QuorumSample) => boolean = (s) => s.healthyVoters < s.quorum,
): QuorumSample[] {
  return samples.filter((sample, i) => {
    const next = samples[i + 1];
    return lost(sample) && (next === undefined || lost(next));
  });
}
