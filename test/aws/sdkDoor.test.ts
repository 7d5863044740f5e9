// quorate reaches the AWS SDK through one module, src/aws/sdk.ts, which the
// build replaces in dist/ with a tree-shaken bundle (bin/bundle-aws-sdk.mjs).
// These tests read the sources and the built bundle (`npm test` builds before
// vitest runs), and call the local cloud through the bundle's own clients.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import * as door from "../../src/aws/sdk.js";
import { removeDir, startTestCloud, tempDir } from "../localcloud/cloudHelpers.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BUNDLE = join(ROOT, "dist", "aws", "sdk.js");

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

async function bundled(): Promise<Record<string, unknown>> {
  if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`);
  return import(pathToFileURL(BUNDLE).href);
}

describe("quorate's own code reaches the SDK only through src/aws/sdk.ts", () => {
  it("has no value import of an @aws-sdk or @smithy package elsewhere (the local cloud aside)", () => {
    const src = join(ROOT, "src");
    const offenders: string[] = [];
    for (const file of sourcesUnder(src)) {
      const path = relative(ROOT, file);
      if (path === "src/aws/sdk.ts" || path.startsWith("src/localcloud/")) continue;
      const text = readFileSync(file, "utf8");
      const imports = text.matchAll(
        /^import\s+(type\s+)?[^;]*?from\s+"(@aws-sdk\/[^"]+|@smithy\/[^"]+)"/gms,
      );
      for (const [, typeOnly, pkg] of imports) if (!typeOnly) offenders.push(`${path}: ${pkg}`);
      for (const [, pkg] of text.matchAll(/require\("(@aws-sdk\/[^"]+|@smithy\/[^"]+)"\)/g))
        offenders.push(`${path}: require ${pkg}`);
    }
    expect(offenders).toEqual([]);
  });
});

describe("the bundle in dist/aws/sdk.js", () => {
  it("exports exactly the names src/aws/sdk.ts exports, each a function or class", async () => {
    const built = await bundled();
    expect(Object.keys(built).sort()).toEqual(Object.keys(door).sort());
    for (const [name, value] of Object.entries(built))
      expect([name, typeof value]).toEqual([name, "function"]);
  });

  it("leaves out the operations quorate never calls", () => {
    const chunks = join(ROOT, "dist", "aws", "sdk");
    const code = readdirSync(chunks)
      .filter((name) => name.endsWith(".js"))
      .map((name) => readFileSync(join(chunks, name), "utf8"))
      .join("\n");
    // Called: their schemas are in.
    for (const kept of ['"DescribeInstances"', '"CreateChangeSet"', '"UploadPart"'])
      expect(code).toContain(kept);
    // Never called by quorate (the local cloud serves them): their schemas are out.
    for (const left of [
      '"RunInstances"',
      '"CreateStack"',
      '"PutBucketPolicy"',
      '"CreateAutoScalingGroup"',
    ])
      expect(code).not.toContain(left);
  });

  it("talks to the local cloud with the SDK's own clients", async () => {
    const sdk = (await bundled()) as unknown as typeof door;
    const dataDir = await tempDir("quorate-sdk-door-");
    const cloud = await startTestCloud(dataDir);
    try {
      const config = {
        region: "eu-west-1",
        endpoint: cloud.endpoint,
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
      };
      const cfn = new sdk.CloudFormationClient(config);
      const stacks = await cfn.send(new sdk.DescribeStacksCommand({}));
      expect(stacks.Stacks).toEqual([]);
      const ec2 = new sdk.EC2Client(config);
      const instances = await ec2.send(new sdk.DescribeInstancesCommand({}));
      expect(instances.Reservations).toEqual([]);
      const s3 = new sdk.S3Client({ ...config, forcePathStyle: true });
      await s3.send(new sdk.CreateBucketCommand({ Bucket: "door" }));
      await s3.send(
        new sdk.PutObjectCommand({ Bucket: "door", Key: "k", Body: "through the bundle" }),
      );
      const got = await s3.send(new sdk.GetObjectCommand({ Bucket: "door", Key: "k" }));
      expect(await got.Body?.transformToString()).toBe("through the bundle");
      const missing = await cfn
        .send(new sdk.DescribeStacksCommand({ StackName: "quorate-absent" }))
        .catch((error: unknown) => error);
      // Errors keep the SDK's shape (name, message, $metadata), which awsErrors.ts reads.
      expect(missing).toMatchObject({
        name: "ValidationError",
        $metadata: { httpStatusCode: 400 },
      });
    } finally {
      await cloud.close();
      await removeDir(dataDir);
    }
  });
});
