// What an operator expects of the rendered stack by default (issue 18): both
// volumes encrypted (with the cluster's own KMS key when named), etcd
// compacting its history, and time from the Amazon Time Sync Service.
import { describe, expect, it } from "vitest";
import { parseManifests } from "../../src/manifest/parse.js";
import { bootstrapScript } from "../../src/render/bootstrapScript.js";
import { BOOT_SETTINGS_PATH } from "../../src/render/contract.js";
import { renderTemplate } from "../../src/render/template.js";
import { renderUserData } from "../../src/render/userData.js";
import { userDataContents } from "./instanceRoot.js";
import { coreosLegacySpec, devSpec } from "./specs.js";

const IMAGE = { imageId: "ami-0123456789abcdef0" };
const KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab";
const KEY_ARN = `arn:aws:kms:eu-west-1:111122223333:key/${KEY_ID}`;

// biome-ignore lint/suspicious/noExplicitAny: reading into a rendered template
type Json = any;

function launchData(spec = devSpec()): Json {
  return (renderTemplate(spec, IMAGE).Resources.EtcdLaunchTemplate as Json).Properties
    .LaunchTemplateData;
}

function roleStatements(spec = devSpec()): Json[] {
  return (renderTemplate(spec, IMAGE).Resources.EtcdRole as Json).Properties.Policies[0]
    .PolicyDocument.Statement;
}

function fileOf(userData: string, path: string): string | undefined {
  return userDataContents(userData).files.find((f) => f.path === path)?.content;
}

describe("volumes", () => {
  it("encrypts the root volume, which holds the TLS keys and the peer list", () => {
    const [root] = launchData().BlockDeviceMappings;
    expect(root).toEqual({
      DeviceName: "/dev/xvda",
      Ebs: { VolumeType: "gp3", DeleteOnTermination: true, Encrypted: true },
    });
  });

  it("encrypts both volumes with a named key, and lets the role decrypt with it through SSM only", () => {
    const spec = { ...devSpec(), kmsKeyId: KEY_ID };
    const mappings = launchData(spec).BlockDeviceMappings;
    expect(mappings.map((m: Json) => m.Ebs.KmsKeyId)).toEqual([KEY_ID, KEY_ID]);
    expect(roleStatements(spec).find((s) => s.Sid === "DecryptWithClusterKey")).toEqual({
      Sid: "DecryptWithClusterKey",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: {
        "Fn::Sub": `arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/${KEY_ID}`,
      },
      Condition: {
        StringEquals: { "kms:ViaService": { "Fn::Sub": "ssm.${AWS::Region}.amazonaws.com" } },
      },
    });
    const byArn = roleStatements({ ...devSpec(), kmsKeyId: KEY_ARN });
    expect(byArn.find((s) => s.Sid === "DecryptWithClusterKey")?.Resource).toBe(KEY_ARN);
  });

  it("grants no kms:Decrypt without a named key", () => {
    expect(roleStatements().map((s) => s.Sid)).toEqual(["SignalOwnStack"]);
    expect(launchData().BlockDeviceMappings.some((m: Json) => "KmsKeyId" in m.Ebs)).toBe(false);
  });
});

describe("auto-compaction", () => {
  it("is on by default: periodic, keeping one hour, in the etcd environment of the member", () => {
    const text = [
      "apiVersion: quorate.dev/v1alpha1",
      "kind: EtcdCluster",
      "metadata: { name: a }",
      "spec:",
      "  region: eu-west-1",
      "  image: { version: 4081.2.0 }",
      "  network: { vpcId: vpc-0a1b2c3d4e5f60718, subnetIds: [subnet-0a1b2c3d4e5f60001] }",
    ].join("\n");
    const [spec] = parseManifests([{ file: "a.yaml", text }]).clusters;
    expect(spec?.etcd.autoCompaction).toEqual({ mode: "periodic", retention: "1h" });
    const env = fileOf(renderUserData(spec!), BOOT_SETTINGS_PATH);
    expect(env).toContain("\nETCD_AUTO_COMPACTION_MODE=periodic\n");
    expect(env).toContain("\nETCD_AUTO_COMPACTION_RETENTION=1h\n");
  });

  it("renders a revision retention as written", () => {
    const spec = devSpec();
    spec.etcd.autoCompaction = { mode: "revision", retention: "10000" };
    const env = fileOf(renderUserData(spec), BOOT_SETTINGS_PATH);
    expect(env).toContain("\nETCD_AUTO_COMPACTION_MODE=revision\n");
    expect(env).toContain("\nETCD_AUTO_COMPACTION_RETENTION=10000\n");
  });
});

describe("time sync", () => {
  const conf = "/etc/systemd/timesyncd.conf.d/10-quorate.conf";
  it.each([
    ["Flatcar (Ignition)", devSpec(), "flatcar"],
    ["coreos-legacy (cloud-config)", coreosLegacySpec(), "coreos"],
  ])("%s asks the Amazon Time Sync Service first, the public pools after", (_, spec, pool) => {
    expect(fileOf(renderUserData(spec), conf)).toBe(
      `[Time]\nNTP=169.254.169.123\nFallbackNTP=0.${pool}.pool.ntp.org 1.${pool}.pool.ntp.org 2.${pool}.pool.ntp.org 3.${pool}.pool.ntp.org\n`,
    );
  });
});

describe("instance metadata", () => {
  it("allows one hop: every container on a member uses the host's network", () => {
    expect(launchData().MetadataOptions.HttpPutResponseHopLimit).toBe(1);
    const script = bootstrapScript();
    const runs = script.match(/docker run\b.*/g) ?? [];
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) expect(run).toContain("--network host");
  });
});
