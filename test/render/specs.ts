// The example manifests as ClusterSpec literals, with every schema default
// written out, until the manifest loader lands and tests can read the YAML.
import type { BackupSpec, ClusterSpec } from "../../src/manifest/types.js";

/** spec.backup with bucket snaps and every schema default (maxAge as given). */
export function snapsBackup(maxAge = "PT1H"): BackupSpec {
  return {
    bucket: "snaps",
    prefix: "dev/",
    every: "PT1H",
    retention: { keepLast: 24 },
    beforeChange: true,
    maxAge,
    encryption: { type: "SSE-S3" },
  };
}

export function devSpec(): ClusterSpec {
  return {
    name: "dev",
    labels: { env: "dev" },
    annotations: {},
    source: { file: "clusters/dev.yaml", line: 6, column: 1, document: 0 },
    region: "eu-west-1",
    stackName: "quorate-dev",
    size: 3,
    instanceType: "t3.medium",
    image: { os: "flatcar", channel: "stable", version: "4081.2.0" },
    network: {
      egress: "internet",
      vpcEndpoints: [],
      vpcId: "vpc-0a1b2c3d4e5f60718",
      subnetIds: [
        "subnet-0a1b2c3d4e5f60001",
        "subnet-0a1b2c3d4e5f60002",
        "subnet-0a1b2c3d4e5f60003",
      ],
      clientCidrs: ["10.0.0.0/16"],
    },
    etcd: {
      version: "3.5.17",
      clientPort: 2379,
      peerPort: 2380,
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1000,
      quotaBackendBytes: 2147483648,
      snapshotCount: 10000,
      autoCompaction: { mode: "periodic", retention: "1h" },
      tls: { enabled: false },
      dataVolume: { sizeGiB: 20, type: "gp3", deviceName: "/dev/xvdb" },
    },
    updatePolicy: {
      order: "launchFirst",
      maxBatchSize: 1,
      minInstancesInService: 3,
      signalTimeout: "PT10M",
      lifecycleHookTimeout: "PT10M",
    },
    gates: {
      stableFor: "PT15S",
      maxAppliedIndexLag: 1000,
      abortAfter: "PT10M",
      deadMemberGrace: "PT3M",
      probeTimeout: "PT2S",
    },
    maintenance: {
      autoDefrag: false,
      fragmentationThreshold: 0.5,
      minDbSizeBytes: 104857600,
      minInterval: "PT1H",
    },
    suspend: false,
    prune: false,
    terminationProtection: false,
    tags: {},
  };
}

export function prodSpec(): ClusterSpec {
  const dev = devSpec();
  return {
    ...dev,
    name: "prod",
    labels: { env: "prod" },
    annotations: { owner: "platform-team@example.com" },
    source: { file: "clusters/prod.yaml", line: 6, column: 1, document: 0 },
    stackName: "etcd-prod-euw1",
    size: 5,
    instanceType: "m6i.large",
    network: {
      egress: "internet",
      vpcEndpoints: [],
      vpcId: "vpc-0a1b2c3d4e5f60718",
      subnetIds: [
        "subnet-0a1b2c3d4e5f60011",
        "subnet-0a1b2c3d4e5f60012",
        "subnet-0a1b2c3d4e5f60013",
      ],
      clientCidrs: ["10.0.0.0/16", "10.1.0.0/16"],
    },
    etcd: {
      ...dev.etcd,
      quotaBackendBytes: 8589934592,
      dataVolume: {
        sizeGiB: 50,
        type: "gp3",
        iops: 6000,
        throughput: 250,
        deviceName: "/dev/xvdb",
      },
    },
    updatePolicy: {
      order: "launchFirst",
      maxBatchSize: 1,
      minInstancesInService: 5,
      signalTimeout: "PT15M",
      lifecycleHookTimeout: "PT15M",
    },
    gates: {
      stableFor: "PT1M",
      maxAppliedIndexLag: 500,
      abortAfter: "PT20M",
      deadMemberGrace: "PT5M",
      probeTimeout: "PT2S",
    },
    terminationProtection: true,
    tags: { "cost-center": "platform" },
  };
}

/** prod with TLS on, for the variants the resource-spec test checks. */
export function tlsSpec(): ClusterSpec {
  const spec = prodSpec();
  spec.etcd.tls = { enabled: true, parameterPrefix: "/quorate/prod/" };
  return spec;
}

/** dev on a pinned old Container Linux AMI, which renders cloud-config. */
export function coreosLegacySpec(): ClusterSpec {
  const spec = devSpec();
  spec.image = { os: "coreos-legacy", channel: "stable", imageId: "ami-0123456789abcdef0" };
  return spec;
}
