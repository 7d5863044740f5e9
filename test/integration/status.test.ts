// `quorate status` rebuilt from live stacks: stacks created on the local cloud
// through the AWS SDK, tagged as quorate tags them, read back by the real
// CLI through the real SDK clients.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CreateChangeSetCommand, ExecuteChangeSetCommand } from "@aws-sdk/client-cloudformation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalCloud } from "../../src/localcloud/index.js";
import { loadManifests } from "../../src/manifest/load.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { STACK_TAG } from "../../src/render/contract.js";
import { renderStack } from "../../src/render/template.js";
import { cli } from "../cli/run.js";
import {
  type Clients,
  clientsFor,
  removeDir,
  startTestCloud,
  tempDir,
  waitForChangeSet,
  waitForStatus,
} from "../localcloud/cloudHelpers.js";

const REV = "0123456789abcdef0123456789abcdef01234567";
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** The Flatcar release feed as files: the AMI of clusters/dev.yaml's image, offline. */
const FEED = join(ROOT, "test/fixtures/flatcar");

/** A one-resource stack carrying quorate's tags: all that a rebuilt status reads of a stack. */
const TEMPLATE = JSON.stringify({
  Resources: {
    Group: {
      Type: "AWS::EC2::SecurityGroup",
      Properties: { GroupDescription: "status test", VpcId: "vpc-0a1b2c3d4e5f60718" },
    },
  },
});

let dataDir: string;
let repo: string;
let cloud: LocalCloud;
let clients: Clients;

async function createStack(stackName: string, tags: Record<string, string>): Promise<void> {
  const created = await clients.cfn.send(
    new CreateChangeSetCommand({
      StackName: stackName,
      ChangeSetName: "create-1",
      ChangeSetType: "CREATE",
      TemplateBody: TEMPLATE,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  expect(await waitForChangeSet(clients.cfn, created.Id!)).toBe("CREATE_COMPLETE");
  await clients.cfn.send(new ExecuteChangeSetCommand({ ChangeSetName: created.Id }));
  await waitForStatus(clients.cfn, stackName, ["CREATE_COMPLETE"]);
}

function quorateTags(cluster: string, sha: string): Record<string, string> {
  return {
    [STACK_TAG.managedBy]: "quorate",
    [STACK_TAG.cluster]: cluster,
    [STACK_TAG.revision]: REV,
    [STACK_TAG.templateSha256]: sha,
    [STACK_TAG.prune]: "false",
  };
}

beforeAll(async () => {
  dataDir = await tempDir("status-cloud-");
  repo = await tempDir("status-repo-");
  cloud = await startTestCloud(dataDir);
  clients = clientsFor(cloud.endpoint);
  // The example manifest, a copy of it under another name, and a broken copy.
  const dev = await readFile(join(ROOT, "clusters/dev.yaml"), "utf8");
  await mkdir(join(repo, "clusters"));
  await writeFile(join(repo, "clusters/dev.yaml"), dev);
  await writeFile(join(repo, "clusters/stage.yaml"), dev.replace("name: dev ", "name: stage "));
  await writeFile(
    join(repo, "clusters/bad.yaml"),
    dev.replace("name: dev ", "name: bad ").replace("size: 3 ", "size: 4 "),
  );
  const loaded = await loadManifests(["clusters"], repo);
  expect(loaded.clusters.map((c) => c.name)).toEqual(["dev", "stage"]);
  const spec = loaded.clusters[0]!;
  const imageId = await createAmiFeed({ source: FEED }).resolve(spec);
  const sha = renderStack(spec, { imageId }).templateSha256;
  await createStack("quorate-dev", quorateTags("dev", sha));
  await createStack("quorate-stage", quorateTags("stage", "0".repeat(64)));
  await createStack("quorate-gone", quorateTags("gone", "1".repeat(64)));
  await createStack("someone-elses", {});
});

afterAll(async () => {
  await cloud?.close();
  await removeDir(dataDir);
  await removeDir(repo);
});

describe("quorate status --rebuild against the local cloud", () => {
  const run = (format: "text" | "json") =>
    cli(
      ["status", "--rebuild", "--endpoint", cloud.endpoint, "--ami-feed", FEED, "--format", format],
      {
        cwd: repo,
        // No AWS credentials: the local cloud's static ones are used.
        env: { PATH: process.env.PATH, HOME: repo, XDG_CACHE_HOME: join(repo, ".cache") },
      },
    );

  it("finds the in-sync, out-of-sync, orphaned and invalid clusters and exits 2", async () => {
    const result = await run("json");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout);
    expect(report.from).toEqual({ kind: "live", path: "clusters", regions: ["eu-west-1"] });
    const rows = Object.fromEntries(
      report.clusters.map((c: any) => [
        c.cluster,
        {
          ready: c.conditions.find((x: any) => x.type === "Ready")?.reason,
          stack: c.stackStatus,
          applied: c.lastAppliedRevision,
        },
      ]),
    );
    expect(rows).toEqual({
      bad: { ready: "InvalidManifest", stack: undefined, applied: undefined },
      dev: { ready: "ReconciliationSucceeded", stack: "CREATE_COMPLETE", applied: REV },
      gone: { ready: "Orphaned", stack: "CREATE_COMPLETE", applied: REV },
      stage: { ready: "OutOfSync", stack: "CREATE_COMPLETE", applied: REV },
    });
  });

  it("prints the table with where the status came from", async () => {
    const result = await run("text");
    expect(result.code).toBe(2);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(
      "rebuilt from live stacks: manifests in clusters, regions eu-west-1; health gates not probed",
    );
    expect(lines).toContain(
      "dev      True   ReconciliationSucceeded  CREATE_COMPLETE  0123456789ab      unknown",
    );
    expect(result.stdout).toContain(
      "  out of sync: stack quorate-stage has template hash 000000000000",
    );
    expect(result.stdout).not.toContain("someone-elses");
  });
});
