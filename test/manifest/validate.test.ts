import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { formatManifestError } from "../../src/manifest/manifestError.js";
import { parseManifests } from "../../src/manifest/parse.js";

const DEV = readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8");

/** The dev example with one change applied, as YAML text. */
function devWith(change: (manifest: Record<string, any>) => void): string {
  const manifest = parse(DEV);
  change(manifest);
  return stringify(manifest);
}

/** The message without its FILE:LINE:COL prefix, so rows do not depend on layout. */
function messages(text: string): string[] {
  return parseManifests([{ file: "m.yaml", text }]).errors.map((e) =>
    formatManifestError(e).replace(/^m\.yaml:\d+:\d+: /, ""),
  );
}

describe("validation rules, one row per rule with its exact message", () => {
  it.each([
    [
      "size must be odd",
      (m: any) => {
        m.spec.size = 4;
      },
      "spec.size: must be odd and between 1 and 9 (got 4): a cluster of n members tolerates (n-1)/2 failed members, so an even size adds quorum cost without adding tolerance; use 3 or 5",
    ],
    [
      "size at most 9",
      (m: any) => {
        m.spec.size = 11;
      },
      "spec.size: must be odd and between 1 and 9 (got 11): a cluster of n members tolerates (n-1)/2 failed members, so an even size adds quorum cost without adding tolerance; use 3 or 5",
    ],
    [
      "minInstancesInService at most size when launching first",
      (m: any) => {
        m.spec.updatePolicy.minInstancesInService = 4;
      },
      "spec.updatePolicy.minInstancesInService: must be at most size (3) with order launchFirst (got 4): CloudFormation keeps at most MaxSize (size+1) instances and needs room for one replacement; leave it out for size",
    ],
    [
      "minInstancesInService at most size-1 when terminating first",
      (m: any) => {
        m.spec.updatePolicy.order = "terminateFirst";
        m.spec.updatePolicy.minInstancesInService = 3;
      },
      "spec.updatePolicy.minInstancesInService: must be at most size-1 (2) with order terminateFirst (got 3): terminateFirst needs room to take one member out; leave it out for size-1",
    ],
    [
      "maxBatchSize is 1",
      (m: any) => {
        m.spec.updatePolicy.maxBatchSize = 2;
      },
      "spec.updatePolicy.maxBatchSize: must be 1 (got 2): etcd changes membership one member at a time; replacing two members at once can cost quorum",
    ],
    [
      "signal timeout at most PT1H",
      (m: any) => {
        m.spec.updatePolicy.signalTimeout = "PT61M";
      },
      "spec.updatePolicy.signalTimeout: must be at most PT1H (got PT61M): CloudFormation refuses a PauseTime or signal Timeout above one hour",
    ],
    [
      "signal timeout is a duration",
      (m: any) => {
        m.spec.updatePolicy.signalTimeout = "15 minutes";
      },
      'spec.updatePolicy.signalTimeout: is not an ISO 8601 duration (got "15 minutes"): write it as CloudFormation does, for example PT30S, PT15M or PT1H30M',
    ],
    [
      "lifecycle hook timeout range",
      (m: any) => {
        m.spec.updatePolicy.lifecycleHookTimeout = "PT10S";
      },
      "spec.updatePolicy.lifecycleHookTimeout: must be between PT30S and PT2H (got PT10S): Auto Scaling accepts a lifecycle hook HeartbeatTimeout of 30 to 7200 seconds",
    ],
    [
      "subnet list not empty",
      (m: any) => {
        m.spec.network.subnetIds = [];
      },
      "spec.network.subnetIds: must list at least one subnet (got []): the Auto Scaling Group launches members into these subnets; list one per availability zone",
    ],
    [
      "subnet id form",
      (m: any) => {
        m.spec.network.subnetIds[1] = "subnet-xyz";
      },
      'spec.network.subnetIds[1]: is not a subnet id (got "subnet-xyz"): a subnet id is subnet- followed by 8 or 17 hexadecimal digits',
    ],
    [
      "AMI id form",
      (m: any) => {
        m.spec.image = { os: "flatcar", imageId: "ami-123" };
      },
      'spec.image.imageId: is not an AMI id (got "ami-123"): an AMI id is ami- followed by 8 or 17 hexadecimal digits, for example ami-0abcdef1234567890',
    ],
    [
      "Flatcar version form",
      (m: any) => {
        m.spec.image.version = "current";
      },
      'spec.image.version: is not a Flatcar release version (got "current"): pin a release such as 4081.2.0 (https://www.flatcar.org/releases); `current` is refused because it changes without a commit',
    ],
    [
      "flatcar needs a version or an imageId",
      (m: any) => {
        m.spec.image = { os: "flatcar", channel: "beta" };
      },
      "spec.image: needs version or imageId: set spec.image.version to a Flatcar release (for example 4081.2.0) or pin spec.image.imageId",
    ],
    [
      "coreos-legacy needs an imageId",
      (m: any) => {
        m.spec.image = { os: "coreos-legacy", version: "2512.3.0" };
      },
      "spec.image: needs imageId for os coreos-legacy: CoreOS Container Linux has no release feed any more; pin the AMI with spec.image.imageId",
    ],
    [
      "etcd at least 3.4",
      (m: any) => {
        m.spec.etcd.version = "3.3.25";
      },
      'spec.etcd.version: must be at least 3.4 (got "3.3.25"): quorate adds each new member as a learner first, and learners arrived in etcd 3.4',
    ],
    [
      "etcd version form",
      (m: any) => {
        m.spec.etcd.version = "v3.5";
      },
      'spec.etcd.version: is not an etcd version (got "v3.5"): write MAJOR.MINOR.PATCH, for example 3.5.17',
    ],
    [
      "election timeout vs heartbeat",
      (m: any) => {
        m.spec.etcd.heartbeatIntervalMs = 500;
      },
      "spec.etcd.electionTimeoutMs: must be at least 5 times heartbeatIntervalMs (2500) (got 1000): etcd refuses to start otherwise; its tuning guide suggests about 10 times the heartbeat",
    ],
    [
      "distinct ports",
      (m: any) => {
        m.spec.etcd.peerPort = 2379;
      },
      "spec.etcd.peerPort: must differ from clientPort (got 2379): etcd serves clients and peers on separate listeners",
    ],
    [
      "TLS needs a parameter prefix",
      (m: any) => {
        m.spec.etcd.tls = { enabled: true };
      },
      "spec.etcd.tls: needs parameterPrefix when enabled: members read their certificates from SSM Parameter Store under this prefix, for example /quorate/prod/",
    ],
    [
      "throughput only on gp3",
      (m: any) => {
        m.spec.etcd.dataVolume = { type: "gp2", throughput: 200 };
      },
      "spec.etcd.dataVolume.throughput: applies to gp3 volumes only (got 200): remove throughput or set type: gp3",
    ],
    [
      "no iops on gp2",
      (m: any) => {
        m.spec.etcd.dataVolume = { type: "gp2", iops: 3000 };
      },
      "spec.etcd.dataVolume.iops: cannot be set for gp2 volumes (got 3000): gp2 IOPS follow the volume size; use gp3 or io2 to provision IOPS",
    ],
    [
      "io2 needs iops",
      (m: any) => {
        m.spec.etcd.dataVolume = { type: "io2" };
      },
      "spec.etcd.dataVolume.type: io2 needs iops: provisioned-IOPS volumes need an iops value",
    ],
    [
      "abortAfter longer than stableFor",
      (m: any) => {
        m.spec.gates.abortAfter = "PT10S";
      },
      "spec.gates.abortAfter: must be longer than stableFor (PT15S) (got PT10S): otherwise a rollout is cancelled before a healthy cluster could ever prove itself stable",
    ],
    [
      "tag keys usable in instance metadata",
      (m: any) => {
        m.spec.tags = { "team/name": "x" };
      },
      'spec.tags: has a tag key that instance metadata refuses (got "team/name"): CloudFormation copies stack tags onto every instance, and launches with metadata tags on fail for keys with / or spaces; use letters, digits and + - = . , _ : @',
    ],
    [
      "unknown field with a suggestion",
      (m: any) => {
        m.spec.instancetype = m.spec.instanceType;
      },
      "spec.instancetype: is not a known field: did you mean instanceType?",
    ],
    [
      "required field",
      (m: any) => {
        delete m.spec.network.vpcId;
      },
      "spec.network.vpcId: is required: VPC of the security group.",
    ],
    [
      "cluster name form",
      (m: any) => {
        m.metadata.name = "Dev_1";
      },
      'metadata.name: is not a valid cluster name (got "Dev_1"): use lowercase letters, digits and dashes (at most 40), starting and ending with a letter or digit; it becomes part of the stack name',
    ],
    [
      "region form",
      (m: any) => {
        m.spec.region = "europe";
      },
      'spec.region: is not an AWS region (got "europe"): for example eu-west-1',
    ],
    [
      "apiVersion",
      (m: any) => {
        m.apiVersion = "quorate.dev/v1";
      },
      'apiVersion: must be quorate.dev/v1alpha1 (got "quorate.dev/v1"): this version of quorate reads quorate.dev/v1alpha1 manifests',
    ],
    [
      "type mismatch falls back to the field's description",
      (m: any) => {
        m.spec.suspend = "yes";
      },
      'spec.suspend: must be a boolean (got "yes"): Stop reconciling this cluster. Status is still reported; nothing is applied.',
    ],
    [
      "account roleArn is a role ARN",
      (m: any) => {
        m.spec.account = { roleArn: "arn:aws:iam::1111:user/quorate" };
      },
      'spec.account.roleArn: is not an IAM role ARN (got "arn:aws:iam::1111:user/quorate"): write arn:aws:iam::<12-digit account id>:role/<name>, the role quorate assumes in the cluster\'s account',
    ],
    [
      "account sessionName as STS takes it",
      (m: any) => {
        m.spec.account = { roleArn: "arn:aws:iam::111111111111:role/q", sessionName: "has space" };
      },
      'spec.account.sessionName: is not a role session name (got "has space"): 2 to 64 letters, digits and + = , . @ _ - (STS\'s rule for RoleSessionName)',
    ],
    [
      "account needs roleArn",
      (m: any) => {
        m.spec.account = { externalId: "acme" };
      },
      "spec.account.roleArn: is required: ARN of the role quorate assumes, for example arn:aws:iam::111111111111:role/quorate. Changing it does not move the cluster: quorate creates a new stack in the new account and leaves the old one running.",
    ],
    [
      "restore needs backup",
      (m: any) => {
        m.spec.restore = { id: "r1" };
      },
      "spec.restore: needs spec.backup: a restore reads its snapshot from spec.backup's bucket and prefix; add spec.backup with the bucket the snapshot is in",
    ],
    [
      "kmsKeyId needs SSE-KMS",
      (m: any) => {
        m.spec.backup = { bucket: "snaps", encryption: { kmsKeyId: "alias/etcd" } };
      },
      'spec.backup.encryption.kmsKeyId: applies to SSE-KMS only (got "alias/etcd"): set encryption.type: SSE-KMS, or remove kmsKeyId to keep SSE-S3',
    ],
    [
      "a restore snapshot key under the cluster's prefix",
      (m: any) => {
        m.spec.backup = { bucket: "snaps" };
        m.spec.restore = { id: "r1", snapshot: "prod/20261204T000000Z.snapshot" };
      },
      'spec.restore.snapshot: must be latest or a key under the backup prefix dev/ (got "prod/20261204T000000Z.snapshot"): copy a key from `quorate backups CLUSTER`; members may only read their own cluster\'s prefix',
    ],
    [
      "keyName at most 255 characters, EC2's limit",
      (m: any) => {
        m.spec.keyName = "k".repeat(256);
      },
      `spec.keyName: must be at most 255 characters (got "${"k".repeat(56)}...): Optional EC2 key pair name for SSH access to members: up to 255 printable ASCII characters (EC2's limit), not starting or ending with a space.`,
    ],
    [
      "keyName without control characters (a newline or an escape would reach logs and user-data)",
      (m: any) => {
        m.spec.keyName = "ops\u001b[31m";
      },
      `spec.keyName: has the wrong form (got "ops\\u001b[31m"): Optional EC2 key pair name for SSH access to members: up to 255 printable ASCII characters (EC2's limit), not starting or ending with a space.`,
    ],
    [
      "keyName without a leading space",
      (m: any) => {
        m.spec.keyName = " ops";
      },
      `spec.keyName: has the wrong form (got " ops"): Optional EC2 key pair name for SSH access to members: up to 255 printable ASCII characters (EC2's limit), not starting or ending with a space.`,
    ],
  ])("%s", (_name, change, expected) => {
    expect(messages(devWith(change))).toEqual([expected]);
  });

  it("accepts the examples unchanged", () => {
    expect(messages(DEV)).toEqual([]);
  });
});

describe("repository-wide rules", () => {
  it("refuses duplicate names and duplicate stack names, pointing at both manifests", () => {
    const other = devWith((m) => {
      m.spec.stackName = "quorate-dev";
      m.metadata.name = "dev2";
    });
    const result = parseManifests([
      { file: "a.yaml", text: DEV },
      { file: "b.yaml", text: DEV },
      { file: "c.yaml", text: other },
    ]);
    expect(result.clusters).toEqual([]);
    const lines = result.errors.map(formatManifestError);
    expect(lines).toContain(
      'a.yaml:6:1: metadata.name: duplicate cluster name (got "dev"): also used by the manifest at b.yaml:6:1; each cluster owns exactly one stack, so rename one of them',
    );
    expect(lines).toContain(
      'c.yaml:1:1: spec.stackName: duplicate stack name (got "quorate-dev"): also used by the manifest at a.yaml:6:1; each cluster owns exactly one stack, so rename one of them',
    );
    expect(result.invalid.map((i) => i.cluster).sort()).toEqual(["dev", "dev", "dev2"]);
  });

  it("reads several documents from one file and keeps each one's position", () => {
    const second = devWith((m) => {
      m.metadata.name = "second";
    });
    const result = parseManifests([{ file: "multi.yaml", text: `${DEV}---\n${second}` }]);
    expect(result.errors).toEqual([]);
    expect(result.clusters.map((c) => [c.name, c.source.line, c.source.document])).toEqual([
      ["dev", 6, 0],
      ["second", 37, 1],
    ]);
  });

  it("applies every default and derives the stack name and minInstancesInService", () => {
    const [prod] = parseManifests([
      { file: "p.yaml", text: devWith((m) => Object.assign(m.spec, { size: 5 })) },
    ]).clusters;
    expect(prod?.stackName).toBe("quorate-dev");
    expect(prod?.updatePolicy).toEqual({
      order: "launchFirst",
      maxBatchSize: 1,
      minInstancesInService: 5,
      signalTimeout: "PT10M",
      lifecycleHookTimeout: "PT10M",
    });
    const [terminateFirst] = parseManifests([
      {
        file: "p.yaml",
        text: devWith((m) => Object.assign(m.spec, { updatePolicy: { order: "terminateFirst" } })),
      },
    ]).clusters;
    expect(terminateFirst?.updatePolicy.minInstancesInService).toBe(2);
    expect(prod?.etcd.dataVolume).toEqual({ sizeGiB: 20, type: "gp3", deviceName: "/dev/xvdb" });
    expect(prod?.backup).toBeUndefined();
  });

  it("defaults a backup: the cluster's own prefix, hourly, 24 kept, beforeChange within 15 minutes, SSE-S3", () => {
    const [dev] = parseManifests([
      {
        file: "d.yaml",
        text: devWith((m) => Object.assign(m.spec, { backup: { bucket: "snaps" } })),
      },
    ]).clusters;
    expect(dev?.backup).toEqual({
      bucket: "snaps",
      prefix: "dev/",
      every: "PT1H",
      retention: { keepLast: 24 },
      beforeChange: true,
      maxAge: "PT15M",
      encryption: { type: "SSE-S3" },
    });
  });

  it("reports a YAML syntax error with its position and keeps the other files", () => {
    const result = parseManifests([
      { file: "bad.yaml", text: "spec:\n  size: [3\n" },
      { file: "dev.yaml", text: DEV },
    ]);
    expect(result.clusters.map((c) => c.name)).toEqual(["dev"]);
    expect(result.errors).toHaveLength(1);
    expect(formatManifestError(result.errors[0]!)).toMatch(
      /^bad\.yaml:\d+:\d+: YAML syntax error: .+: fix the YAML; the file is not read until it parses$/,
    );
  });
});

describe("a file with five different mistakes", () => {
  it("gets five errors, each with file:line:col", () => {
    const text = readFileSync(
      new URL("../fixtures/manifests/invalid/five-mistakes.yaml", import.meta.url),
      "utf8",
    );
    const lines = parseManifests([{ file: "five-mistakes.yaml", text }]).errors.map(
      formatManifestError,
    );
    expect(lines).toEqual([
      "five-mistakes.yaml:8:9: spec.size: must be odd and between 1 and 9 (got 4): a cluster of n members tolerates (n-1)/2 failed members, so an even size adds quorum cost without adding tolerance; use 3 or 5",
      'five-mistakes.yaml:12:14: spec.image.version: is not a Flatcar release version (got "latest"): pin a release such as 4081.2.0 (https://www.flatcar.org/releases); `current` is refused because it changes without a commit',
      "five-mistakes.yaml:15:16: spec.network.subnetIds: must list at least one subnet (got []): the Auto Scaling Group launches members into these subnets; list one per availability zone",
      "five-mistakes.yaml:17:20: spec.updatePolicy.signalTimeout: must be at most PT1H (got PT2H): CloudFormation refuses a PauseTime or signal Timeout above one hour",
      'five-mistakes.yaml:19:14: spec.etcd.version: must be at least 3.4 (got "3.3.25"): quorate adds each new member as a learner first, and learners arrived in etcd 3.4',
    ]);
  });
});

describe("spec.account", () => {
  const specOf = (account: unknown) =>
    parseManifests([
      {
        file: "m.yaml",
        text: devWith((m) => {
          m.spec.account = account;
        }),
      },
    ]).clusters[0];

  it("is absent without the block: the ambient credentials' account", () => {
    expect(parseManifests([{ file: "m.yaml", text: DEV }]).clusters[0]?.account).toBeUndefined();
  });

  it("names the role, with the session name defaulting to quorate-<name>", () => {
    expect(specOf({ roleArn: "arn:aws:iam::111111111111:role/quorate" })?.account).toEqual({
      roleArn: "arn:aws:iam::111111111111:role/quorate",
      sessionName: "quorate-dev",
    });
  });

  it("keeps the externalId and a given session name", () => {
    expect(
      specOf({
        roleArn: "arn:aws:iam::111111111111:role/ops/quorate",
        externalId: "acme-etcd",
        sessionName: "quorate-ci",
      })?.account,
    ).toEqual({
      roleArn: "arn:aws:iam::111111111111:role/ops/quorate",
      externalId: "acme-etcd",
      sessionName: "quorate-ci",
    });
  });
});
