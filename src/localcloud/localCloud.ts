// startLocalCloud: the local cloud in-process (tests) or as the daemon behind
// `quorate local up`. State under <dataDir>/state, instance data under
// <dataDir>/instances, S3 buckets under <dataDir>/s3; starting again on the same data directory restores
// every stack, change set and instance and carries in-flight operations on.
// Every account other than the default one (accounts.ts) has the same layout
// under <dataDir>/accounts/<id>/, its own world, driver and instances.
import { join, resolve } from "node:path";
import { Accounts, type GrantedRole } from "./accounts.js";
import { LocalCloudAdmin } from "./adminClient.js";
import type { AccountSummary } from "./adminTypes.js";
import { autoScalingService } from "./autoscaling/api.js";
import { cloudFormationService } from "./cloudformation/api.js";
import { Driver, signalFromInstance } from "./driver.js";
import { ec2Service } from "./ec2/api.js";
import { recordPhase, tagMap } from "./ec2/instances.js";
import { Faults } from "./faults.js";
import { PolicyEnforcer, readPolicyFile } from "./iam/policyEnforcer.js";
import { ACCOUNT_ID } from "./ids.js";
import {
  createInstanceRuntime,
  type InstanceHost,
  type InstanceRuntime,
  type RuntimeRecord,
} from "./instances/index.js";
import type { ServiceDefinition } from "./protocol/dispatch.js";
import { ObjectStore } from "./s3/objectStore.js";
import { startServer } from "./server.js";
import { applySignalFault } from "./signalFaults.js";
import { Store } from "./state/store.js";
import { stsService } from "./sts/api.js";
import { type IamSwitch, type LogEvent, World, type WorldSettings } from "./world.js";

export interface LocalCloudOptions {
  /** Default 4566; 0 picks a free port (tests). */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default .quorate/local. */
  dataDir?: string;
  /**
   * Multiplies every AWS-side duration (PauseTime, CreationPolicy Timeout,
   * HeartbeatTimeout). Default 1. With 0.01, a PT10M timeout lasts 6 s.
   */
  timeScale?: number;
  /** Stand-in for EC2 boot time before an instance's bootstrap runs. Default 1000 ms. */
  bootDelayMs?: number;
  /** How long each resource operation takes, so that its IN_PROGRESS status can be seen. Default 200 ms. */
  operationDelayMs?: number;
  /** Instances get the loopback addresses after this one. Default 127.0.1.0; tests pick their own. */
  network?: string;
  /** Port of each instance's metadata service on its own address. Default 8169. */
  imdsPort?: number;
  /** etcd binary; default "etcd" from PATH. */
  etcdBinary?: string;
  /** SIGTERM, then SIGKILL after this long. Default 5000 ms. */
  stopGraceMs?: number;
  /** Scale tests: instances without etcd, which signal right after boot. */
  withoutEtcd?: boolean;
  /** Page sizes of the paginated APIs (tests make them small to exercise pagination). */
  pageSize?: Partial<WorldSettings["pageSize"]>;
  /**
   * An IAM identity policy (a document, or the path of a JSON file) that every
   * call is evaluated against, including what CloudFormation provisions for a
   * stack operation. Absent: every call is allowed.
   */
  iamPolicy?: string | object;
  /** The caller's principal tags (aws:PrincipalTag/<key>) that the policy's conditions may read. */
  iamPrincipalTags?: Record<string, string>;
  /**
   * IAM roles that AssumeRole grants, e.g. ["arn:aws:iam::111111111111:role/quorate"],
   * or { roleArn, externalId } for a role whose trust policy asks for an
   * external id: each role's account is an account of its own (stacks,
   * groups, instances). AssumeRole of any other role, or with another
   * external id, is AccessDenied. Default: none.
   */
  roles?: readonly GrantedRole[];
  log?: (event: LogEvent) => void;
}

export interface LocalCloud {
  /** http://127.0.0.1:<port>, for AWS_ENDPOINT_URL or a client's `endpoint`. */
  endpoint: string;
  port: number;
  dataDir: string;
  admin: LocalCloudAdmin;
  /** Stops the server and every instance process; the state stays on disk. */
  close(): Promise<void>;
  /**
   * Stops serving without stopping instance processes or writing anything
   * more: what a kill -9 leaves behind, for crash tests in one process.
   */
  crash(): Promise<void>;
}

export const DEFAULTS = {
  port: 4566,
  host: "127.0.0.1",
  dataDir: ".quorate/local",
  timeScale: 1,
  bootDelayMs: 1000,
  operationDelayMs: 200,
  network: "127.0.1.0",
  imdsPort: 8169,
  stopGraceMs: 5000,
} as const;

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const dataDir = resolve(options.dataDir ?? DEFAULTS.dataDir);
  const log = options.log ?? (() => {});
  const settings: WorldSettings = {
    timeScale: options.timeScale ?? DEFAULTS.timeScale,
    operationDelayMs: options.operationDelayMs ?? DEFAULTS.operationDelayMs,
    network: options.network ?? DEFAULTS.network,
    pageSize: {
      stacks: 100,
      events: 100,
      groups: 50,
      changeSets: 100,
      resources: 100,
      ...options.pageSize,
    },
  };
  if (!(settings.timeScale > 0))
    throw new Error(`timeScale must be above 0 (got ${settings.timeScale})`);
  const enforcer =
    options.iamPolicy === undefined
      ? undefined
      : await PolicyEnforcer.create(
          typeof options.iamPolicy === "string"
            ? readPolicyFile(options.iamPolicy)
            : options.iamPolicy,
          typeof options.iamPolicy === "string" ? options.iamPolicy : undefined,
          options.iamPrincipalTags,
        );
  const iam: IamSwitch = enforcer ? { enforcer } : {};
  const objects = ObjectStore.open(join(dataDir, "s3"));
  const accounts = Accounts.open(join(dataDir, "accounts.json"), options.roles ?? []);
  const opened = new Map<string, OpenAccount>();
  const open = (accountId: string, slot: number): OpenAccount => {
    const existing = opened.get(accountId);
    if (existing) return existing;
    const account = openAccount({
      accountId,
      dir: slot === 0 ? dataDir : join(dataDir, "accounts", accountId),
      settings: { ...settings, network: accountNetwork(settings.network, slot) },
      objects,
      options,
      iam,
      log: slot === 0 ? log : (event) => log({ ...event, account: accountId }),
    });
    opened.set(accountId, account);
    return account;
  };
  const home = open(ACCOUNT_ID, 0);
  const sts = stsService(accounts, (accountId) => {
    if (!opened.has(accountId)) {
      const account = open(accountId, accounts.slotOf(accountId));
      account.driver.pass();
    }
  });
  const restored = [home, ...accounts.known().map((a) => open(a.accountId, a.slot))];
  for (const account of restored) await restoreInstances(account.world);

  const counters = new Map<string, number>();
  const startedAt = new Date().toISOString();
  const info = { endpoint: "", dataDir, startedAt };
  const summaries = (): AccountSummary[] =>
    [...opened.values()].map(({ world }) => ({
      accountId: world.accountId,
      network: world.settings.network,
      stacks: world.store.stacks.size,
      instances: world.store.instances.size,
    }));
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      host: options.host ?? DEFAULTS.host,
      port: options.port ?? DEFAULTS.port,
      world: home.world,
      accountFor: (accessKeyId) => {
        const { accountId, arn } = accounts.callerOf(accessKeyId);
        const account = opened.get(accountId) ?? open(accountId, accounts.slotOf(accountId));
        return { world: account.world, services: [...account.services, sts], principal: arn };
      },
      accountById: (accountId) => opened.get(accountId)?.world,
      s3: { store: objects, faults: home.world.faults, log },
      admin: { counters, info, accounts: summaries, roles: () => accounts.grantable() },
    });
  } catch (error) {
    for (const account of opened.values()) account.driver.close();
    await Promise.all([...opened.values()].map((a) => a.runtime.stopAll()));
    throw error;
  }
  const endpoint = `http://${options.host ?? DEFAULTS.host}:${server.port}`;
  info.endpoint = endpoint;
  log({ event: "listening", endpoint, dataDir });
  for (const account of opened.values()) account.driver.pass();

  let closed = false;
  const all = () => [...opened.values()];
  return {
    endpoint,
    port: server.port,
    dataDir,
    admin: new LocalCloudAdmin(endpoint),
    async close() {
      if (closed) return;
      closed = true;
      for (const account of all()) account.driver.close();
      await server.close();
      for (const account of all()) account.store.flush();
      await Promise.all(all().map((a) => a.runtime.stopAll()));
      for (const account of all()) account.store.flush();
      log({ event: "closed" });
    },
    async crash() {
      if (closed) return;
      closed = true;
      for (const account of all()) account.driver.close();
      await server.close();
      await Promise.all(all().map((a) => a.runtime.detach()));
    },
  };
}

interface OpenAccount {
  world: World;
  store: Store;
  driver: Driver;
  runtime: InstanceRuntime;
  services: ServiceDefinition[];
}

/** One account's world: its state, instance runtime, driver and query services. */
function openAccount(input: {
  accountId: string;
  dir: string;
  settings: WorldSettings;
  objects: ObjectStore;
  options: LocalCloudOptions;
  iam: IamSwitch;
  log: (event: LogEvent) => void;
}): OpenAccount {
  const { options, objects, log } = input;
  const store = Store.open(join(input.dir, "state"));
  const world = new World(store, input.settings, new Faults(), log, Date.now, input.accountId);
  world.shareIam(input.iam);
  const host: InstanceHost = {
    readObject: (bucket, key) => {
      const record = objects.getObject(bucket, key);
      return record ? objects.readBody(bucket, record) : undefined;
    },
    instanceTags: (id) => tagMap(store.instances.get(id)?.tags ?? []),
    signal: (id, status, reason) =>
      applySignalFault(world, id, status, reason, () => signalFromInstance(world, id, status)),
    onPhase: (id, phase, detail) => {
      recordPhase(world, id, phase, detail);
      world.kick();
    },
  };
  const runtime = createInstanceRuntime({
    dataDir: join(input.dir, "instances"),
    bootDelayMs: options.bootDelayMs ?? DEFAULTS.bootDelayMs,
    stopGraceMs: options.stopGraceMs ?? DEFAULTS.stopGraceMs,
    imdsPort: options.imdsPort ?? DEFAULTS.imdsPort,
    host,
    log: (event) => log({ event: "runtime", ...event }),
    ...(options.etcdBinary ? { etcdBinary: options.etcdBinary } : {}),
    ...(options.withoutEtcd ? { withoutEtcd: true } : {}),
  });
  world.attachRuntime(runtime);
  const driver = new Driver(world);
  const services = [cloudFormationService(world), autoScalingService(world), ec2Service(world)];
  return { world, store, driver, runtime, services };
}

/**
 * The network of the account in `slot`: the default account's, moved up by
 * `slot` in the second octet (127.0.1.0 -> 127.1.1.0, 127.2.1.0, ...), so that
 * the instances of different accounts never share an address.
 */
export function accountNetwork(network: string, slot: number): string {
  if (slot === 0) return network;
  const parts = network.split(".").map(Number);
  const second = (parts[1] ?? 0) + slot;
  if (parts.length !== 4 || second > 255)
    throw new Error(
      `the local cloud has no loopback range left for account slot ${slot} after ${network}; start it with a lower --network`,
    );
  return [parts[0], second, parts[2], parts[3]].join(".");
}

/**
 * After a restart: every instance that is not terminated goes back to the
 * runtime, which adopts its etcd or starts it again; terminations that were
 * under way are issued again by the next pass.
 */
async function restoreInstances(world: World): Promise<void> {
  for (const group of world.store.groups.values()) {
    for (const instance of group.instances) delete instance.terminating;
  }
  for (const record of world.store.instances.values()) {
    if (record.state === "terminated") continue;
    const runtimeRecord: RuntimeRecord = record.runtime
      ? { ...record.runtime, phase: record.runtime.phase as RuntimeRecord["phase"] }
      : {
          instanceId: record.instanceId,
          privateIp: record.privateIp,
          phase: "booting",
          etcdStarted: false,
        };
    try {
      await world.runtime.restore(
        {
          instanceId: record.instanceId,
          privateIp: record.privateIp,
          imageId: record.imageId,
          userDataBase64: record.userData,
        },
        runtimeRecord,
      );
    } catch (error) {
      world.log({ event: "restore-error", instanceId: record.instanceId, error: String(error) });
    }
  }
}
