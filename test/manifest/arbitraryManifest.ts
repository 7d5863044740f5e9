// fast-check arbitraries for schema-valid manifests: every field the schema
// knows, within the bounds the schema and the semantic rules allow.
import fc from "fast-check";

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: length, maxLength: length });
const awsId = (prefix: string) => fc.oneof(hex(8), hex(17)).map((digits) => `${prefix}-${digits}`);
const duration = (minSeconds: number, maxSeconds: number) =>
  fc.integer({ min: minSeconds, max: maxSeconds }).map((total) => {
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = total % 60;
    return `PT${h ? `${h}H` : ""}${m ? `${m}M` : ""}${s || total === 0 ? `${s}S` : ""}`;
  });
const name = fc
  .stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/)
  .filter((n) => n.length <= 40);
const tagKey = fc.stringMatching(/^[A-Za-z0-9+\-=.,_:@]{1,20}$/).filter((k) => !/^aws:/i.test(k));

const image = fc.oneof(
  fc.record({
    os: fc.constant("flatcar"),
    channel: fc.constantFrom("stable", "beta", "alpha", "lts"),
    version: fc
      .tuple(fc.integer({ min: 1000, max: 9999 }), fc.nat(9), fc.nat(9))
      .map(([a, b, c]) => `${a}.${b}.${c}`),
  }),
  fc.record({ os: fc.constantFrom("flatcar", "coreos-legacy"), imageId: awsId("ami") }),
);

const dataVolume = fc.oneof(
  fc.record(
    {
      sizeGiB: fc.integer({ min: 1, max: 16384 }),
      type: fc.constant("gp3"),
      iops: fc.integer({ min: 3000, max: 16000 }),
      throughput: fc.integer({ min: 125, max: 1000 }),
    },
    { requiredKeys: [] },
  ),
  fc.record({ type: fc.constant("io2"), iops: fc.integer({ min: 100, max: 64000 }) }),
  fc.record({ type: fc.constant("gp2"), sizeGiB: fc.integer({ min: 1, max: 100 }) }),
);

const etcd = fc
  .record(
    {
      version: fc
        .tuple(fc.integer({ min: 4, max: 6 }), fc.nat(30))
        .map(([minor, patch]) => `3.${minor}.${patch}`),
      clientPort: fc.integer({ min: 1024, max: 30000 }),
      peerPort: fc.integer({ min: 30001, max: 65535 }),
      heartbeatIntervalMs: fc.integer({ min: 10, max: 500 }),
      quotaBackendBytes: fc.integer({ min: 0, max: 8589934592 }),
      snapshotCount: fc.integer({ min: 1, max: 100000 }),
      tls: fc.oneof(
        fc.constant({ enabled: false }),
        fc.constant({ enabled: true, parameterPrefix: "/quorate/x/" }),
      ),
      dataVolume,
    },
    { requiredKeys: [] },
  )
  .map((e) => ({
    ...e,
    electionTimeoutMs: 5 * (e.heartbeatIntervalMs ?? 100) + 10,
  }));

const account = fc.record(
  {
    roleArn: fc
      .tuple(
        fc.stringMatching(/^\d{12}$/),
        fc.stringMatching(/^([\w+=,.@-]{1,10}\/)?[\w+=,.@-]{1,20}$/),
        fc.constantFrom("aws", "aws-us-gov", "aws-cn"),
      )
      .map(([id, role, partition]) => `arn:${partition}:iam::${id}:role/${role}`),
    externalId: fc.stringMatching(/^[\w+=,.@:/-]{2,40}$/),
    sessionName: fc.stringMatching(/^[\w+=,.@-]{2,64}$/),
  },
  { requiredKeys: ["roleArn"] },
);

/** A manifest object the schema and every semantic rule accept. */
export const validManifest = fc
  .record({
    name,
    size: fc.constantFrom(1, 3, 5, 7, 9),
    region: fc.constantFrom("eu-west-1", "us-east-1", "ap-southeast-2", "us-gov-west-1"),
    instanceType: fc.constantFrom("t3.medium", "m6i.large", "r6a.2xlarge", "c5n.metal"),
    image,
    subnetIds: fc.uniqueArray(awsId("subnet"), { minLength: 1, maxLength: 6 }),
    clientCidrs: fc.uniqueArray(
      fc
        .tuple(fc.nat(255), fc.nat(255), fc.integer({ min: 8, max: 32 }))
        .map(([a, b, bits]) => `10.${a}.${b}.0/${bits}`),
      { maxLength: 4 },
    ),
    etcd,
    signalTimeout: duration(1, 3600),
    lifecycleHookTimeout: duration(30, 7200),
    stableFor: duration(0, 600),
    extraAbort: duration(1, 3600),
    lag: fc.nat(100000),
    keyName: fc.option(fc.constantFrom("ops", "break-glass"), { nil: undefined }),
    account: fc.option(account, { nil: undefined }),
    stackName: fc.option(fc.stringMatching(/^[A-Za-z][-A-Za-z0-9]{0,30}$/), { nil: undefined }),
    tags: fc.dictionary(tagKey, fc.string({ maxLength: 30 }), { maxKeys: 4 }),
    flags: fc.record({
      suspend: fc.boolean(),
      prune: fc.boolean(),
      terminationProtection: fc.boolean(),
    }),
    order: fc.option(fc.constantFrom("launchFirst", "terminateFirst"), { nil: undefined }),
    minInService: fc.option(fc.nat(9), { nil: undefined }),
  })
  .map((m) => {
    const stableSeconds = secondsOf(m.stableFor);
    const abortAfter = `PT${stableSeconds + secondsOf(m.extraAbort)}S`;
    return {
      apiVersion: "quorate.dev/v1alpha1",
      kind: "EtcdCluster",
      metadata: { name: m.name, labels: { team: "x" } },
      spec: {
        region: m.region,
        ...(m.account ? { account: m.account } : {}),
        ...(m.stackName ? { stackName: m.stackName } : {}),
        size: m.size,
        instanceType: m.instanceType,
        ...(m.keyName ? { keyName: m.keyName } : {}),
        image: m.image,
        network: {
          vpcId: "vpc-0123456789abcdef0",
          subnetIds: m.subnetIds,
          clientCidrs: m.clientCidrs,
        },
        etcd: m.etcd,
        updatePolicy: {
          signalTimeout: m.signalTimeout,
          lifecycleHookTimeout: m.lifecycleHookTimeout,
          ...(m.order === undefined ? {} : { order: m.order }),
          // launchFirst keeps all size members in service, terminateFirst one fewer.
          ...(m.minInService === undefined
            ? {}
            : {
                minInstancesInService: Math.min(
                  m.minInService,
                  m.order === "terminateFirst" ? m.size - 1 : m.size,
                ),
              }),
        },
        gates: { stableFor: m.stableFor, abortAfter, maxAppliedIndexLag: m.lag },
        tags: m.tags,
        ...m.flags,
      },
    };
  });

function secondsOf(duration: string): number {
  const match = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(duration);
  return match
    ? Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)
    : 0;
}
