// The admin API under /_quorate/: health, API call counters, a state
// snapshot, and fault injection. JSON in and out; errors as {"error": "..."}.
import type {
  AccountSummary,
  ChangeSetFaultRequest,
  GroupSummary,
  IamPolicyRequest,
  InstanceFaultAction,
  InstanceSummary,
  LocalCloudSnapshot,
  ResourceFaultRequest,
  S3CorruptRequest,
  S3FaultRequest,
  SignalFaultRequest,
  StackSummary,
  ThrottleRequest,
} from "./adminTypes.js";
import { PolicyEnforcer } from "./iam/policyEnforcer.js";
import type { ObjectStore } from "./s3/objectStore.js";
import type { World } from "./world.js";

export interface AdminContext {
  world: World;
  objects: ObjectStore;
  counters: Map<string, number>;
  info: { endpoint: string; dataDir: string; startedAt: string };
  /** Every account the local cloud holds, and the roles AssumeRole grants. */
  accounts?: () => AccountSummary[];
  roles?: () => string[];
}

export interface AdminResponse {
  status: number;
  body: unknown;
}

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const INSTANCE_PATH =
  /^\/_quorate\/instances\/(i-[0-9a-f]+)\/(kill|pause|resume|restart|fail|recover)$/;

export async function handleAdmin(
  ctx: AdminContext,
  method: string,
  path: string,
  body: string,
): Promise<AdminResponse> {
  try {
    return await route(ctx, method, path, body);
  } catch (error) {
    const status = error instanceof AdminError ? error.status : 400;
    return { status, body: { error: (error as Error).message } };
  }
}

function parse<T>(body: string): T {
  if (!body) return {} as T;
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new AdminError(400, "the request body is not JSON");
  }
}

async function route(
  ctx: AdminContext,
  method: string,
  path: string,
  body: string,
): Promise<AdminResponse> {
  const { world } = ctx;
  const ok = (b: unknown = { ok: true }): AdminResponse => ({ status: 200, body: b });
  const key = `${method} ${path}`;
  switch (key) {
    case "GET /_quorate/health":
      return ok({ status: "ok", endpoint: ctx.info.endpoint, pid: process.pid });
    case "GET /_quorate/counters":
      return ok({ counters: Object.fromEntries([...ctx.counters].sort()) });
    case "POST /_quorate/counters/reset":
      ctx.counters.clear();
      return ok();
    case "GET /_quorate/state":
      return ok(snapshot(ctx));
    case "PUT /_quorate/iam": {
      // A policy to enforce from now on (tests swap policies on one running cloud).
      const req = parse<IamPolicyRequest>(body);
      if (!req.policy || typeof req.policy !== "object")
        throw new AdminError(400, "iam needs policy: an IAM policy document");
      try {
        world.iam = await PolicyEnforcer.create(req.policy, "the policy", req.principalTags ?? {});
      } catch (error) {
        throw new AdminError(400, (error as Error).message);
      }
      return ok();
    }
    case "GET /_quorate/iam":
      return ok({ enforcing: world.iam !== undefined, evaluated: world.iam?.evaluated() ?? [] });
    case "DELETE /_quorate/iam":
      world.iam = undefined;
      return ok();
    case "GET /_quorate/accounts":
      return ok({ accounts: ctx.accounts?.() ?? [], roles: ctx.roles?.() ?? [] });
    case "GET /_quorate/faults":
      return ok(world.faults.list());
    case "DELETE /_quorate/faults":
      world.faults.clear();
      return ok();
    case "POST /_quorate/faults/throttle": {
      const req = parse<ThrottleRequest>(body);
      if (!req.service || !req.action)
        throw new AdminError(400, "throttle needs service and action");
      world.faults.throttles.push({
        service: req.service,
        action: req.action,
        remaining: req.count ?? 1,
      });
      return ok();
    }
    case "POST /_quorate/faults/signals": {
      const req = parse<SignalFaultRequest>(body);
      if (req.mode !== "drop" && req.mode !== "delay")
        throw new AdminError(400, "mode must be drop or delay");
      world.faults.signals.push({
        mode: req.mode,
        ...(req.instanceId ? { instanceId: req.instanceId } : {}),
        ...(req.delayMs !== undefined ? { delayMs: req.delayMs } : {}),
        ...(req.count !== undefined ? { remaining: req.count } : {}),
      });
      return ok();
    }
    case "POST /_quorate/faults/resources": {
      const req = parse<ResourceFaultRequest>(body);
      if (
        !req.stackName ||
        !req.logicalId ||
        !["create", "update", "rollback", "delete"].includes(req.phase)
      ) {
        throw new AdminError(
          400,
          "a resource fault needs stackName, logicalId and phase (create, update, rollback or delete)",
        );
      }
      world.faults.resources.push({
        stackName: req.stackName,
        logicalId: req.logicalId,
        phase: req.phase,
        ...(req.count !== undefined ? { remaining: req.count } : {}),
        ...(req.message ? { message: req.message } : {}),
      });
      return ok();
    }
    case "POST /_quorate/faults/change-sets": {
      const req = parse<ChangeSetFaultRequest>(body);
      if (!req.stackName || !req.reason)
        throw new AdminError(400, "a change-set fault needs stackName and reason");
      world.faults.changeSets.push({
        stackName: req.stackName,
        reason: req.reason,
        ...(req.count !== undefined ? { remaining: req.count } : {}),
      });
      return ok();
    }
    case "POST /_quorate/faults/s3": {
      const req = parse<S3FaultRequest>(body);
      if (req.mode !== "fail" && req.mode !== "truncate")
        throw new AdminError(400, "an S3 fault needs mode fail or truncate");
      world.faults.s3.push({
        mode: req.mode,
        ...(req.bucket ? { bucket: req.bucket } : {}),
        ...(req.keyPrefix ? { keyPrefix: req.keyPrefix } : {}),
        ...(req.bytes !== undefined ? { bytes: req.bytes } : {}),
        ...(req.count !== undefined ? { remaining: req.count } : {}),
      });
      return ok();
    }
    case "POST /_quorate/s3/corrupt": {
      const req = parse<S3CorruptRequest>(body);
      if (!req.bucket || !req.key) throw new AdminError(400, "corrupt needs bucket and key");
      try {
        const out = ctx.objects.corruptObject(req.bucket, req.key, req.offset);
        world.log({ event: "fault-s3-corrupt", bucket: req.bucket, key: req.key, ...out });
        return ok(out);
      } catch (error) {
        throw new AdminError(404, (error as Error).message);
      }
    }
  }
  const match = method === "POST" ? INSTANCE_PATH.exec(path) : null;
  if (match) {
    await instanceFault(
      ctx,
      match[1]!,
      match[2] as InstanceFaultAction,
      parse<{ signal?: NodeJS.Signals }>(body),
    );
    return ok();
  }
  throw new AdminError(404, `no admin route ${method} ${path}`);
}

async function instanceFault(
  ctx: AdminContext,
  instanceId: string,
  action: InstanceFaultAction,
  options: { signal?: NodeJS.Signals },
): Promise<void> {
  const { world } = ctx;
  const record = world.store.instances.get(instanceId);
  if (!record || record.state === "terminated")
    throw new AdminError(404, `instance ${instanceId} is not running`);
  switch (action) {
    case "kill":
      world.runtime.killEtcd(instanceId, options.signal ?? "SIGKILL");
      break;
    case "pause":
      world.runtime.pauseEtcd(instanceId);
      break;
    case "resume":
      world.runtime.resumeEtcd(instanceId);
      break;
    case "restart":
      await world.runtime.restartEtcd(instanceId);
      break;
    case "fail":
      // EC2's status check fails: Auto Scaling marks the instance unhealthy and may replace it.
      record.impaired = true;
      break;
    case "recover":
      delete record.impaired;
      break;
  }
  world.log({ event: "fault-instance", instanceId, action });
  world.store.touch(record.owner);
  world.kick();
}

function snapshot(ctx: AdminContext): LocalCloudSnapshot {
  const { world } = ctx;
  const stacks: StackSummary[] = [...world.store.stacks.values()].map((s) => {
    const op = s.operation;
    const step = op
      ? [...op.steps, ...op.cleanupSteps].find((x) => x.status !== "done" && x.status !== "failed")
      : undefined;
    return {
      stackName: s.stackName,
      stackId: s.stackId,
      status: s.status,
      ...(s.statusReason ? { statusReason: s.statusReason } : {}),
      ...(op
        ? {
            operation: {
              kind: op.kind,
              stage: op.stage,
              halted: op.halted === true,
              ...(step ? { step: `${step.verb} ${step.logicalId}` } : {}),
            },
          }
        : {}),
      resources: Object.values(s.resources).map((r) => ({
        logicalId: r.logicalId,
        type: r.type,
        status: r.status,
        ...(r.physicalId ? { physicalId: r.physicalId } : {}),
      })),
      changeSets: s.changeSets.map((c) => ({
        name: c.name,
        status: c.status,
        executionStatus: c.executionStatus,
      })),
    };
  });
  const groups: GroupSummary[] = [...world.store.groups.values()].map((g) => ({
    name: g.name,
    stackId: g.owner,
    minSize: g.minSize,
    maxSize: g.maxSize,
    desiredCapacity: g.desiredCapacity,
    launchTemplate: { id: g.launchTemplate.id, version: g.launchTemplate.version },
    suspendedProcesses: g.suspended.map((p) => p.name),
    ...(g.heldBy ? { heldBy: g.heldBy } : {}),
    instances: g.instances.map((i) => ({
      instanceId: i.instanceId,
      lifecycleState: i.lifecycleState,
      healthStatus: i.healthStatus,
      version: i.launchTemplateVersion,
    })),
  }));
  const instances: InstanceSummary[] = [...world.store.instances.values()].map((r) => ({
    instanceId: r.instanceId,
    state: r.state,
    privateIp: r.privateIp,
    imageId: r.imageId,
    ...(r.groupName ? { group: r.groupName } : {}),
    ...(r.phase ? { phase: r.phase } : {}),
    ...(r.phaseDetail ? { phaseDetail: r.phaseDetail } : {}),
    ...(r.runtime?.pid ? { pid: r.runtime.pid } : {}),
  }));
  return {
    accountId: world.accountId,
    endpoint: ctx.info.endpoint,
    dataDir: ctx.info.dataDir,
    network: world.settings.network,
    timeScale: world.settings.timeScale,
    pid: process.pid,
    startedAt: ctx.info.startedAt,
    stacks,
    groups,
    instances,
  };
}
