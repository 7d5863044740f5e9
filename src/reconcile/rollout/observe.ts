// Gathers one RolloutObservation: the stack, its group, the group's instances
// (addresses and published peer lists) and an etcd probe. IO only; no decisions.
import type { AwsClients } from "../../aws/clients.js";
import { describeGroups } from "../../aws/groups.js";
import { describeInstances } from "../../aws/instances.js";
import { describeStack, stackResourceId } from "../../aws/stacks.js";
import type { EtcdClientOptions } from "../../etcd/client.js";
import { probeCluster } from "../../etcd/probe.js";
import type { Member } from "../../etcd/types.js";
import { LOGICAL_ID, readPeerListTags } from "../../render/contract.js";
import {
  type ObservedInstance,
  probeEndpoints,
  type RolloutFacts,
  type RolloutObservation,
} from "./observation.js";

export interface Observer {
  observe(signal?: AbortSignal): Promise<RolloutObservation>;
}

export function createObserver(
  aws: AwsClients,
  facts: RolloutFacts,
  etcd: EtcdClientOptions & { probeTimeoutMs: number },
  now: () => number = Date.now,
): Observer {
  let groupName: string | undefined;
  let lastMembers: Member[] = [];
  return {
    async observe(signal) {
      const at = now();
      const stack = await describeStack(aws.cloudFormation, facts.stackName);
      if (!stack) return { at, instances: [] };
      // A restore's group is found by its name: while CloudFormation creates it,
      // the stack's resource may still name the old group, and the new group's
      // members wait for the peer list only supervision publishes.
      const restoreGroup = facts.restoreGroupName
        ? (await describeGroups(aws.autoScaling, [facts.restoreGroupName])).get(
            facts.restoreGroupName,
          )
        : undefined;
      if (restoreGroup && groupName !== restoreGroup.name) {
        groupName = restoreGroup.name;
        lastMembers = []; // the old cluster's members are not the new group's
      }
      groupName ??= await stackResourceId(aws.cloudFormation, facts.stackName, LOGICAL_ID.group);
      let group =
        restoreGroup ??
        (groupName
          ? (await describeGroups(aws.autoScaling, [groupName])).get(groupName)
          : undefined);
      if (!group && groupName) {
        // The group was replaced (a new physical id) or is not created yet: look it up again.
        groupName = await stackResourceId(aws.cloudFormation, facts.stackName, LOGICAL_ID.group);
        group = groupName
          ? (await describeGroups(aws.autoScaling, [groupName])).get(groupName)
          : undefined;
      }
      const base = { at, stack: { stackId: stack.stackId, status: stack.status } };
      if (!group) return { ...base, instances: [] };
      const ec2 = await describeInstances(
        aws.ec2,
        group.instances.map((i) => i.instanceId),
      );
      const instances: ObservedInstance[] = group.instances.map((i) => {
        const live = ec2.get(i.instanceId);
        const peerList = live ? readPeerListTags(live.tags) : undefined;
        // Launched from the group's current launch template: on the image being rolled to.
        const current =
          i.launchTemplateVersion !== undefined &&
          i.launchTemplateVersion === group.launchTemplateVersion;
        return {
          instanceId: i.instanceId,
          lifecycleState: i.lifecycleState,
          current,
          ...(live?.privateIp ? { privateIp: live.privateIp } : {}),
          ...(live?.imageId ? { imageId: live.imageId } : {}),
          ...(peerList ? { peerList } : {}),
        };
      });
      const endpoints = probeEndpoints(facts, instances, lastMembers);
      const probe =
        endpoints.length > 0
          ? await probeCluster(endpoints, {
              ...etcd,
              timeoutMs: etcd.probeTimeoutMs,
              ...(signal ? { signal } : {}),
              now,
            })
          : undefined;
      if (probe?.members) lastMembers = probe.members;
      return {
        ...base,
        groupName: group.name,
        desiredCapacity: group.desiredCapacity,
        instances,
        ...(probe ? { probe } : {}),
      };
    },
  };
}
