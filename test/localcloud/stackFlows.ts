// Stack flows the integration tests share: the dev cluster rendered from
// clusters/dev.yaml, created and updated through change sets, with a
// QuorateActor doing quorate's part.
import {
  CreateChangeSetCommand,
  DescribeStackResourcesCommand,
  ExecuteChangeSetCommand,
} from "@aws-sdk/client-cloudformation";
import { expect } from "vitest";
import { localAmiId } from "../../src/localcloud/index.js";
import { loadManifests } from "../../src/manifest/load.js";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { LOGICAL_ID } from "../../src/render/contract.js";
import { type RenderedStack, renderStack } from "../../src/render/template.js";
import { waitFor } from "../helpers/waitFor.js";
import { type Clients, waitForChangeSet, waitForStatus } from "./cloudHelpers.js";
import { QuorateActor } from "./quorateActor.js";

export async function devCluster(overrides: Partial<ClusterSpec> = {}): Promise<ClusterSpec> {
  const loaded = await loadManifests(["clusters/dev.yaml"], process.cwd());
  const dev = loaded.clusters.find((c) => c.name === "dev");
  if (!dev) throw new Error(`clusters/dev.yaml did not load: ${JSON.stringify(loaded.errors)}`);
  return { ...dev, ...overrides };
}

export function render(cluster: ClusterSpec, flatcarVersion: string): RenderedStack {
  return renderStack(cluster, { imageId: localAmiId("stable", flatcarVersion, cluster.region) });
}

/** Creates a change set and waits until it is computed; returns its id and final status. */
export async function changeSet(
  clients: Clients,
  input: {
    stackName: string;
    name: string;
    type: "CREATE" | "UPDATE";
    templateBody: string;
    tags: { Key: string; Value: string }[];
  },
): Promise<{ id: string; status: string }> {
  const out = await clients.cfn.send(
    new CreateChangeSetCommand({
      StackName: input.stackName,
      ChangeSetName: input.name,
      ChangeSetType: input.type,
      TemplateBody: input.templateBody,
      Tags: input.tags,
      Capabilities: ["CAPABILITY_IAM"],
    }),
  );
  return { id: out.Id!, status: await waitForChangeSet(clients.cfn, out.Id!) };
}

export async function execute(clients: Clients, id: string): Promise<void> {
  await clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: id }));
}

/** The group's name as quorate finds it, through DescribeStackResources. */
export function groupNameOf(
  clients: Clients,
  stackName: string,
  logicalId: string = LOGICAL_ID.group,
): Promise<string> {
  return waitFor(`the group of ${stackName}`, async () => {
    const out = await clients.cfn.send(
      new DescribeStackResourcesCommand({ StackName: stackName, LogicalResourceId: logicalId }),
    );
    return out.StackResources?.[0]?.PhysicalResourceId || false;
  });
}

export interface CreatedCluster {
  cluster: ClusterSpec;
  groupName: string;
  actor: QuorateActor;
}

/** Creates the cluster's stack and waits for CREATE_COMPLETE, with an actor doing quorate's part (left running). */
export async function createCluster(
  clients: Clients,
  cluster: ClusterSpec,
  templateBody?: string,
): Promise<CreatedCluster> {
  const rendered = render(cluster, "4081.2.0");
  const created = await changeSet(clients, {
    stackName: cluster.stackName,
    name: "create",
    type: "CREATE",
    templateBody: templateBody ?? rendered.templateBody,
    tags: rendered.tags,
  });
  expect(created.status).toBe("CREATE_COMPLETE");
  await execute(clients, created.id);
  const groupName = await groupNameOf(clients, cluster.stackName);
  const actor = new QuorateActor({
    ...clients,
    groupName,
    size: cluster.size,
    token: cluster.name,
  });
  actor.start();
  const status = await waitForStatus(
    clients.cfn,
    cluster.stackName,
    ["CREATE_COMPLETE", "ROLLBACK_COMPLETE"],
    90_000,
  );
  expect(status, actor.log.join("\n")).toBe("CREATE_COMPLETE");
  return { cluster, groupName, actor };
}

/** The template with its rolling update policy edited (the hand-edited MinInstancesInService = N variant). */
export function withRollingUpdate(
  templateBody: string,
  edit: { minInstancesInService?: number; maxSize?: number },
): string {
  const template = JSON.parse(templateBody);
  const group = template.Resources[LOGICAL_ID.group];
  if (edit.minInstancesInService !== undefined) {
    group.UpdatePolicy.AutoScalingRollingUpdate.MinInstancesInService = edit.minInstancesInService;
  }
  if (edit.maxSize !== undefined) group.Properties.MaxSize = String(edit.maxSize);
  return JSON.stringify(template);
}
