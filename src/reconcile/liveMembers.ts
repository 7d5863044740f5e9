// What a plan whose members will roll reads from the live cluster: its
// current members (who runs where, who leads, who is a learner, and the etcd
// version each one reports) and the rollout history on its group. Read from
// the stack's group, the instances' addresses and one etcd probe. A plan made
// where the members cannot be reached (a CI runner outside the VPC) gets the
// reason instead of the members, and still the history (the group is read
// through the AWS API); it never fails the plan.
import type { AwsClients } from "../aws/clients.js";
import { describeGroups, type LiveGroup } from "../aws/groups.js";
import { describeInstances } from "../aws/instances.js";
import { type LiveStack, stackResourceId } from "../aws/stacks.js";
import { describeError } from "../errors.js";
import type { EtcdClientOptions } from "../etcd/client.js";
import { probeCluster } from "../etcd/probe.js";
import { buildRoster } from "../etcd/roster.js";
import { hexId } from "../etcd/wire.js";
import { durationMs } from "../manifest/duration.js";
import type { ClusterSpec } from "../manifest/types.js";
import type { LiveDetail } from "../plan/liveDetail.js";
import type { LiveMember, LiveMembers } from "../plan/model.js";
import { parseRolloutHistory } from "../plan/rolloutHistory.js";
import { GROUP_TAG, LOGICAL_ID } from "../render/contract.js";
import { MEMBER_STATES } from "./rollout/observation.js";

export async function readLiveDetail(
  aws: AwsClients,
  spec: ClusterSpec,
  live: LiveStack | undefined,
  etcd: EtcdClientOptions = {},
): Promise<LiveDetail & { members: LiveMembers }> {
  let group: LiveGroup | undefined;
  try {
    const groupName =
      live?.outputs.GroupName ??
      (await stackResourceId(aws.cloudFormation, spec.stackName, LOGICAL_ID.group));
    group = groupName
      ? (await describeGroups(aws.autoScaling, [groupName])).get(groupName)
      : undefined;
  } catch (error) {
    return { members: { members: [], error: describeError(error) } };
  }
  if (!group)
    return { members: { members: [], error: `the group of ${spec.stackName} was not found` } };
  // The group holds the history; a group without the tag has none yet (a new
  // group, a restore's included): "unknown, no history".
  const history = parseRolloutHistory(group.tags[GROUP_TAG.rolloutHistory]);
  return { members: await readMembers(group, spec, aws, etcd), history };
}

async function readMembers(
  group: LiveGroup,
  spec: ClusterSpec,
  aws: AwsClients,
  etcd: EtcdClientOptions,
): Promise<LiveMembers> {
  try {
    const inService = group.instances.filter((i) => MEMBER_STATES.has(i.lifecycleState));
    const addresses = await describeInstances(
      aws.ec2,
      inService.map((i) => i.instanceId),
    );
    const scheme = spec.etcd.tls.enabled ? "https" : "http";
    const byHost = new Map<string, string>();
    for (const i of inService) {
      const ip = addresses.get(i.instanceId)?.privateIp;
      if (ip) byHost.set(ip, i.instanceId);
    }
    const endpoints = [...byHost.keys()].map((ip) => `${scheme}://${ip}:${spec.etcd.clientPort}`);
    if (endpoints.length === 0) return { members: [], error: "no instance has an address yet" };
    const probe = await probeCluster(endpoints, {
      ...etcd,
      timeoutMs: durationMs(spec.gates.probeTimeout),
    });
    const roster = buildRoster(probe);
    if (roster.entries.length === 0) {
      const why = probe.memberListError ?? probe.endpoints.find((e) => e.error)?.error;
      return { members: [], error: `no member answered from here${why ? `: ${why}` : ""}` };
    }
    const members = roster.entries.map((entry): LiveMember => {
      const host = hostOf(entry.member.peerURLs[0]);
      const instanceId = host ? byHost.get(host) : undefined;
      const status = entry.probe?.status;
      return {
        ...(instanceId ? { instanceId } : {}),
        name: entry.member.name,
        id: hexId(entry.member.id),
        leader: roster.leader.id === entry.member.id,
        learner: entry.member.isLearner,
        ...(entry.probe?.health ? { healthy: entry.probe.health.healthy } : {}),
        ...(status?.version ? { version: status.version } : {}),
      };
    });
    return { members };
  } catch (error) {
    return { members: [], error: describeError(error) };
  }
}

function hostOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).hostname : undefined;
  } catch {
    return undefined;
  }
}
