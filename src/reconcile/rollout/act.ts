// Carries out the actions decide.ts chose, against AWS and etcd, and says what
// happened as events. Every action is idempotent, so a retry after a crash or a
// failed call does no harm.
import type { AwsClients } from "../../aws/clients.js";
import {
  completeLifecycleAction,
  markInstanceUnhealthy,
  recordHeartbeat,
} from "../../aws/groups.js";
import { tagInstance } from "../../aws/instances.js";
import { cancelUpdate } from "../../aws/stacks.js";
import { createEtcdClient, type EtcdClientOptions } from "../../etcd/client.js";
import { createMembership } from "../../etcd/membership.js";
import type { Member } from "../../etcd/types.js";
import { hexId } from "../../etcd/wire.js";
import { formatBytes } from "../../maintenance/decide.js";
import { HOOK_NAME, peerListTags } from "../../render/contract.js";
import type { RolloutAction } from "./decide.js";
import type { RolloutEventType } from "./events.js";
import type { RolloutFacts } from "./observation.js";

/** One member's defragmentation, as `quorate maintain --defrag` allows it. */
const DEFRAG_TIMEOUT_MS = 300_000;

export interface ActContext {
  aws: AwsClients;
  facts: RolloutFacts;
  groupName: string;
  /** Client URLs of the members that answered the last probe. */
  endpoints: string[];
  /** Each member's own client URLs, from the last probe's member list. */
  memberURLs: Map<bigint, string[]>;
  etcd: EtcdClientOptions;
  emit(
    type: RolloutEventType,
    message: string,
    who?: { instanceId?: string; memberId?: bigint },
  ): void;
  /** How long one promote attempt may wait for the learner to catch up before the next tick. */
  promoteAttemptMs: number;
}

export async function act(action: RolloutAction, ctx: ActContext): Promise<void> {
  const { aws, facts } = ctx;
  const complete = async (
    instanceId: string,
    hook: "launching" | "terminating",
    result: "CONTINUE" | "ABANDON",
  ) => {
    const done = await completeLifecycleAction(aws.autoScaling, {
      group: ctx.groupName,
      hook: HOOK_NAME[hook],
      instanceId,
      result,
    });
    ctx.emit(
      "hook-released",
      done ? `${hook} hook completed (${result})` : `${hook} hook was already released`,
      { instanceId },
    );
  };
  switch (action.kind) {
    case "bootstrap": {
      const tags = peerListTags({
        state: "new",
        token: action.token,
        initialCluster: action.initialCluster,
      });
      await Promise.all(action.instanceIds.map((id) => tagInstance(aws.ec2, id, tags)));
      ctx.emit(
        "bootstrap",
        `new cluster of ${action.instanceIds.length}: ${action.initialCluster}`,
      );
      for (const id of action.instanceIds) await complete(id, "launching", "CONTINUE");
      return;
    }
    case "join": {
      const membership = createMembership({ ...ctx.etcd, endpoints: ctx.endpoints });
      try {
        const { id, added } = await membership.addLearner(action.peerURL);
        ctx.emit(
          "learner-added",
          added
            ? `joined as learner (peer ${action.peerURL})`
            : `was already a member (peer ${action.peerURL})`,
          { instanceId: action.instanceId, memberId: id },
        );
        const members = await listMembers(ctx);
        const initialCluster = members
          .map((m) => `${m.id === id ? action.instanceId : m.name}=${m.peerURLs[0] ?? ""}`)
          .join(",");
        await tagInstance(
          aws.ec2,
          action.instanceId,
          peerListTags({ state: "existing", token: facts.cluster, initialCluster }),
        );
        ctx.emit("peers-published", `peer list published (${members.length} members)`, {
          instanceId: action.instanceId,
        });
      } finally {
        membership.close();
      }
      if (action.hookHeld) await complete(action.instanceId, "launching", "CONTINUE");
      return;
    }
    case "complete":
      await complete(action.instanceId, action.hook, action.result);
      return;
    case "heartbeat": {
      const alive = await recordHeartbeat(aws.autoScaling, {
        group: ctx.groupName,
        hook: HOOK_NAME[action.hook],
        instanceId: action.instanceId,
      });
      ctx.emit(
        "hook-held",
        alive
          ? `${action.hook} hook held (heartbeat recorded)`
          : `${action.hook} hook is no longer pending`,
        { instanceId: action.instanceId },
      );
      return;
    }
    case "transfer-leadership": {
      const membership = createMembership({ ...ctx.etcd, endpoints: ctx.endpoints });
      try {
        const moved = await membership.transferLeadershipAway(action.from, { prefer: [action.to] });
        ctx.emit(
          "leadership-moved",
          `leadership moved from ${action.label} to member ${hexId(moved.leader)}`,
          { memberId: action.from },
        );
      } finally {
        membership.close();
      }
      return;
    }
    case "remove": {
      // Ask the others: a member that removes itself shuts down before it answers.
      const own = new Set(ctx.memberURLs.get(action.memberId) ?? []);
      const others = ctx.endpoints.filter((e) => !own.has(e));
      const membership = createMembership({
        ...ctx.etcd,
        endpoints: others.length ? others : ctx.endpoints,
      });
      try {
        const outcome = await membership.removeMember(action.memberId);
        const type = action.why === "departing" ? "member-removed" : "dead-member-removed";
        const words =
          action.why === "dead"
            ? `removed ${action.label}, whose instance is gone`
            : action.why === "failed"
              ? `removed ${action.label}, whose etcd stopped answering`
              : `removed ${action.label} from etcd`;
        ctx.emit(type, outcome === "removed" ? words : `${action.label} was already removed`, {
          ...((action.release ?? action.instanceId)
            ? { instanceId: action.release ?? action.instanceId }
            : {}),
          memberId: action.memberId,
        });
      } finally {
        membership.close();
      }
      if (action.release) await complete(action.release, "terminating", "CONTINUE");
      return;
    }
    case "promote": {
      const membership = createMembership({ ...ctx.etcd, endpoints: ctx.endpoints });
      try {
        const outcome = await membership.promoteWhenCaughtUp(action.memberId, {
          timeoutMs: ctx.promoteAttemptMs,
        });
        ctx.emit(
          "member-promoted",
          outcome === "promoted" ? "promoted to voting member" : "already a voting member",
          {
            instanceId: action.instanceId,
            memberId: action.memberId,
          },
        );
      } finally {
        membership.close();
      }
      return;
    }
    case "replace-instance":
      await markInstanceUnhealthy(aws.autoScaling, action.instanceId);
      ctx.emit("instance-replaced", `marked unhealthy for the group to replace: ${action.why}`, {
        instanceId: action.instanceId,
      });
      return;
    case "cancel-update":
      await cancelUpdate(aws.cloudFormation, facts.stackName);
      ctx.emit("update-cancelled", `cancelled the stack update: ${action.why}`);
      return;
    case "defrag": {
      const client = createEtcdClient(action.endpoint, ctx.etcd);
      try {
        const started = Date.now();
        // Defragmentation rewrites the whole database; it takes longer as the database grows.
        await client.defragment({ timeoutMs: DEFRAG_TIMEOUT_MS });
        const after = await client.status();
        ctx.emit(
          "member-defragmented",
          `defragmented ${action.label} in ${Date.now() - started} ms, now ${formatBytes(after.dbSize)}: ${action.why}`,
          { memberId: action.memberId },
        );
      } finally {
        client.close();
      }
      return;
    }
    case "disarm": {
      const client = createEtcdClient(ctx.endpoints[0] ?? "", ctx.etcd);
      try {
        for (const alarm of action.alarms)
          await client.deactivateAlarm(alarm.memberId, alarm.alarm);
        ctx.emit(
          "alarm-disarmed",
          `disarmed NOSPACE raised by ${action.alarms.map((a) => hexId(a.memberId)).join(", ")}: ${action.why}`,
        );
      } finally {
        client.close();
      }
      return;
    }
  }
}

async function listMembers(ctx: ActContext): Promise<Member[]> {
  let lastError: unknown;
  for (const endpoint of ctx.endpoints) {
    const client = createEtcdClient(endpoint, ctx.etcd);
    try {
      return (await client.memberList()).members;
    } catch (error) {
      lastError = error;
    } finally {
      client.close();
    }
  }
  throw lastError ?? new Error("no endpoint to list members from");
}
