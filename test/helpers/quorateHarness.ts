// Everything a quorate integration story needs: a local cloud on its own
// loopback network with real etcd instances, the real AWS SDK clients pointed
// at it, the example manifests with test-sized gates, and readers for what
// the cluster looks like (members, instances, images).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { type AwsClientPool, createAwsClientPool } from "../../src/aws/clients.js";
import { describeGroups } from "../../src/aws/groups.js";
import { describeInstances } from "../../src/aws/instances.js";
import { describeStack, stackResourceId } from "../../src/aws/stacks.js";
import { createEtcdClient } from "../../src/etcd/client.js";
import type { Member } from "../../src/etcd/types.js";
import {
  type LocalCloud,
  type LocalCloudOptions,
  startLocalCloud,
} from "../../src/localcloud/index.js";
import { parseManifests } from "../../src/manifest/parse.js";
import type { ClusterSpec } from "../../src/manifest/types.js";
import type { ApplyDeps } from "../../src/reconcile/apply.js";
import { formatEventLine, type RolloutEvent } from "../../src/reconcile/rollout/events.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { openHarnesses } from "./harnessRegistry.js";

const ROOT = new URL("../../", import.meta.url);

/** Gates sized for tests: short stable windows, quick aborts. */
export const TEST_GATES = {
  stableFor: "PT1S",
  abortAfter: "PT30S",
  deadMemberGrace: "PT5S",
  probeTimeout: "PT1S",
  maxAppliedIndexLag: 1000,
};

export interface Harness {
  cloud: LocalCloud;
  endpoint: string;
  aws: AwsClientPool;
  events: RolloutEvent[];
  deps(overrides?: Partial<ApplyDeps>): ApplyDeps;
  /** An example manifest (dev or prod) with test gates and the given changes, through the real loader. */
  spec(name: "dev" | "prod", change?: (manifest: Record<string, any>) => void): ClusterSpec;
  members(spec: ClusterSpec): Promise<Member[]>;
  clientURLs(spec: ClusterSpec): Promise<string[]>;
  /** The group's instances with their lifecycle state, address and image. */
  instances(
    spec: ClusterSpec,
  ): Promise<{ instanceId: string; state: string; ip?: string; imageId?: string }[]>;
  stackStatus(spec: ClusterSpec): Promise<string | undefined>;
  close(): Promise<void>;
}

/** A random 127.<a>.<b>.0 network, so that parallel test files never share addresses. */
export function randomNetwork(): string {
  return `127.${20 + Math.floor(Math.random() * 80)}.${1 + Math.floor(Math.random() * 250)}.0`;
}

export async function startHarness(options: Partial<LocalCloudOptions> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), "quorate-it-"));
  const cloud = await startLocalCloud({
    port: 0,
    dataDir,
    network: randomNetwork(),
    timeScale: 0.05,
    bootDelayMs: 300,
    operationDelayMs: 20,
    stopGraceMs: 2000,
    ...options,
  });
  const aws = createAwsClientPool({ endpoint: cloud.endpoint }, {});
  const amiFeed = createAmiFeed({
    source: `${cloud.endpoint}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`,
  });
  const events: RolloutEvent[] = [];

  const groupInstances = async (spec: ClusterSpec) => {
    const clients = aws(spec.region, spec.account);
    const stack = await describeStack(clients.cloudFormation, spec.stackName);
    const name = stack
      ? await stackResourceId(clients.cloudFormation, spec.stackName, "EtcdGroup")
      : undefined;
    if (!name) return [];
    const group = (await describeGroups(clients.autoScaling, [name])).get(name);
    const ec2 = await describeInstances(
      clients.ec2,
      group?.instances.map((i) => i.instanceId) ?? [],
    );
    return (group?.instances ?? []).map((i) => {
      const live = ec2.get(i.instanceId);
      return {
        instanceId: i.instanceId,
        state: i.lifecycleState,
        ...(live?.privateIp ? { ip: live.privateIp } : {}),
        ...(live?.imageId ? { imageId: live.imageId } : {}),
      };
    });
  };

  const clientURLs = async (spec: ClusterSpec) =>
    (await groupInstances(spec)).flatMap((i) =>
      i.ip && i.state === "InService" ? [`http://${i.ip}:${spec.etcd.clientPort}`] : [],
    );

  const harness: Harness = {
    cloud,
    endpoint: cloud.endpoint,
    aws,
    events,
    deps: (overrides = {}) => ({
      aws,
      amiFeed,
      etcd: {},
      onEvent: (event) => {
        events.push(event);
        // QUORATE_TEST_EVENTS=1 shows the rollout as it happens, for debugging a story.
        if (process.env.QUORATE_TEST_EVENTS) process.stderr.write(`${formatEventLine(event)}\n`);
      },
      tickMs: 200,
      heartbeatEveryMs: 1000,
      ...overrides,
    }),
    spec(name, change) {
      const manifest = parse(readFileSync(new URL(`clusters/${name}.yaml`, ROOT), "utf8"));
      manifest.spec.gates = { ...manifest.spec.gates, ...TEST_GATES };
      change?.(manifest);
      const parsed = parseManifests([{ file: `clusters/${name}.yaml`, text: stringify(manifest) }]);
      const [spec] = parsed.clusters;
      if (!spec)
        throw new Error(`test manifest ${name} is invalid: ${JSON.stringify(parsed.errors)}`);
      return spec;
    },
    async members(spec) {
      for (const url of await clientURLs(spec)) {
        const client = createEtcdClient(url, { timeoutMs: 1000 });
        try {
          return (await client.memberList()).members;
        } catch {
          // a learner or a member that is down: ask the next one
        } finally {
          client.close();
        }
      }
      return [];
    },
    clientURLs,
    instances: groupInstances,
    async stackStatus(spec) {
      return (await describeStack(aws(spec.region, spec.account).cloudFormation, spec.stackName))
        ?.status;
    },
    async close() {
      openHarnesses.delete(harness);
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  openHarnesses.add(harness);
  return harness;
}
