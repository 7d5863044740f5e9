// Rules a JSON Schema cannot say: relations between fields, bounds on
// durations, and version comparisons. Each returns errors in operator words.
// They run on a document that already passed the schema (defaults applied).
import { instanceArchitecture } from "./architecture.js";
import { parseIsoDuration } from "./duration.js";
import { dottedPath, type ManifestError } from "./manifestError.js";
import { ROOT_DEVICE_NAME } from "./types.js";
import type { YamlDocument } from "./yamlSource.js";

/** CloudFormation's maximum PauseTime and ResourceSignal Timeout. */
export const MAX_SIGNAL_TIMEOUT_MS = 60 * 60 * 1000;
/** Auto Scaling lifecycle hook HeartbeatTimeout bounds: 30 to 7200 seconds. */
export const HOOK_TIMEOUT_MIN_MS = 30_000;
export const HOOK_TIMEOUT_MAX_MS = 7_200_000;

// biome-ignore lint/suspicious/noExplicitAny: the document passed the schema; fields are read defensively below
type Raw = any;

interface RuleFinding {
  path: (string | number)[];
  problem: string;
  got?: string;
  hint: string;
  rule: string;
}

export function semanticErrors(document: YamlDocument, file: string): ManifestError[] {
  const manifest = document.value as Raw;
  const findings = [
    ...imageRules(manifest.spec),
    ...architectureRules(manifest.spec),
    ...updatePolicyRules(manifest.spec),
    ...etcdRules(manifest.spec),
    ...clientCidrRules(manifest.spec),
    ...gateRules(manifest.spec),
    ...backupRules(manifest.spec, String(manifest.metadata?.name ?? "")),
  ];
  const cluster = typeof manifest.metadata?.name === "string" ? manifest.metadata.name : undefined;
  return findings.map((finding) => {
    const position = document.locate(finding.path);
    return {
      file,
      line: position.line,
      column: position.column,
      path: dottedPath(finding.path),
      problem: finding.problem,
      ...(finding.got === undefined ? {} : { got: finding.got }),
      hint: finding.hint,
      rule: finding.rule,
      ...(cluster ? { cluster } : {}),
    };
  });
}

function imageRules(spec: Raw): RuleFinding[] {
  const image = spec.image ?? {};
  if (image.os === "coreos-legacy" && !image.imageId) {
    return [
      {
        path: ["spec", "image"],
        problem: "needs imageId for os coreos-legacy",
        hint: "CoreOS Container Linux has no release feed any more; pin the AMI with spec.image.imageId",
        rule: "image.legacyNeedsImageId",
      },
    ];
  }
  if (image.os === "flatcar" && !image.imageId && !image.version) {
    return [
      {
        path: ["spec", "image"],
        problem: "needs version or imageId",
        hint: "set spec.image.version to a Flatcar release (for example 4081.2.0) or pin spec.image.imageId",
        rule: "image.versionOrImageId",
      },
    ];
  }
  return [];
}

function architectureRules(spec: Raw): RuleFinding[] {
  const type = String(spec.instanceType ?? "");
  const arch = instanceArchitecture(type);
  if (arch === "unsupported") {
    return [
      {
        path: ["spec", "instanceType"],
        problem: "fits neither image architecture",
        got: type,
        hint: "Flatcar runs on x86_64 (for example m6i.large) and arm64 Graviton types (for example m7g.large); mac instances run macOS only",
        rule: "instanceType.architecture",
      },
    ];
  }
  const image = spec.image ?? {};
  if (arch === "arm64" && image.os === "coreos-legacy") {
    return [
      {
        path: ["spec", "instanceType"],
        problem: "is an arm64 (Graviton) type, and CoreOS Container Linux had no arm64 images",
        got: type,
        hint: "use an x86_64 type such as m5.large for coreos-legacy, or move the cluster to os: flatcar",
        rule: "instanceType.legacyArm64",
      },
    ];
  }
  return [];
}

function updatePolicyRules(spec: Raw): RuleFinding[] {
  const findings: RuleFinding[] = [];
  const policy = spec.updatePolicy ?? {};
  const size: number = spec.size;
  const launchFirst = policy.order !== "terminateFirst";
  const most = launchFirst ? size : size - 1;
  if (typeof policy.minInstancesInService === "number" && policy.minInstancesInService > most) {
    findings.push({
      path: ["spec", "updatePolicy", "minInstancesInService"],
      problem: `must be at most ${launchFirst ? "size" : "size-1"} (${most}) with order ${launchFirst ? "launchFirst" : "terminateFirst"}`,
      got: String(policy.minInstancesInService),
      hint: launchFirst
        ? "CloudFormation keeps at most MaxSize (size+1) instances and needs room for one replacement; leave it out for size"
        : "terminateFirst needs room to take one member out; leave it out for size-1",
      rule: "updatePolicy.minInstancesInService",
    });
  }
  const signalTimeout = parseIsoDuration(policy.signalTimeout);
  if (signalTimeout !== undefined && signalTimeout > MAX_SIGNAL_TIMEOUT_MS) {
    findings.push({
      path: ["spec", "updatePolicy", "signalTimeout"],
      problem: "must be at most PT1H",
      got: policy.signalTimeout,
      hint: "CloudFormation refuses a PauseTime or signal Timeout above one hour",
      rule: "updatePolicy.signalTimeoutMax",
    });
  }
  const hookTimeout = parseIsoDuration(policy.lifecycleHookTimeout);
  if (
    hookTimeout !== undefined &&
    (hookTimeout < HOOK_TIMEOUT_MIN_MS || hookTimeout > HOOK_TIMEOUT_MAX_MS)
  ) {
    findings.push({
      path: ["spec", "updatePolicy", "lifecycleHookTimeout"],
      problem: "must be between PT30S and PT2H",
      got: policy.lifecycleHookTimeout,
      hint: "Auto Scaling accepts a lifecycle hook HeartbeatTimeout of 30 to 7200 seconds",
      rule: "updatePolicy.lifecycleHookTimeoutRange",
    });
  }
  return findings;
}

function etcdRules(spec: Raw): RuleFinding[] {
  const findings: RuleFinding[] = [];
  const etcd = spec.etcd ?? {};
  const [major = 0, minor = 0] = String(etcd.version ?? "")
    .split(".")
    .map(Number);
  if (major < 3 || (major === 3 && minor < 4)) {
    findings.push({
      path: ["spec", "etcd", "version"],
      problem: "must be at least 3.4",
      got: JSON.stringify(etcd.version),
      hint: "quorate adds each new member as a learner first, and learners arrived in etcd 3.4",
      rule: "etcd.minimumVersion",
    });
  }
  if (etcd.clientPort === etcd.peerPort) {
    findings.push({
      path: ["spec", "etcd", "peerPort"],
      problem: "must differ from clientPort",
      got: String(etcd.peerPort),
      hint: "etcd serves clients and peers on separate listeners",
      rule: "etcd.distinctPorts",
    });
  }
  if (etcd.electionTimeoutMs < 5 * etcd.heartbeatIntervalMs) {
    findings.push({
      path: ["spec", "etcd", "electionTimeoutMs"],
      problem: `must be at least 5 times heartbeatIntervalMs (${5 * etcd.heartbeatIntervalMs})`,
      got: String(etcd.electionTimeoutMs),
      hint: "etcd refuses to start otherwise; its tuning guide suggests about 10 times the heartbeat",
      rule: "etcd.electionTimeout",
    });
  }
  if (etcd.tls?.enabled && !etcd.tls.parameterPrefix) {
    findings.push({
      path: ["spec", "etcd", "tls"],
      problem: "needs parameterPrefix when enabled",
      hint: "members read their certificates from SSM Parameter Store under this prefix, for example /quorate/prod/",
      rule: "etcd.tlsPrefix",
    });
  }
  const compaction = etcd.autoCompaction ?? {};
  if (compaction.mode === "revision" && !/^\d+$/.test(String(compaction.retention))) {
    findings.push({
      path: ["spec", "etcd", "autoCompaction", "retention"],
      problem: "must be a number of revisions in mode revision",
      got: JSON.stringify(compaction.retention),
      hint: "write how many revisions to keep, for example 10000, or use mode: periodic to keep a duration",
      rule: "etcd.autoCompactionRevision",
    });
  }
  findings.push(...volumeRules(etcd.dataVolume ?? {}));
  return findings;
}

/** Client CIDRs wider than this, with TLS off, are refused: plaintext etcd open to a continent. */
export const WIDEST_PLAINTEXT_PREFIX = 8;

function clientCidrRules(spec: Raw): RuleFinding[] {
  if (spec.etcd?.tls?.enabled) return [];
  const cidrs: unknown[] = Array.isArray(spec.network?.clientCidrs) ? spec.network.clientCidrs : [];
  const findings: RuleFinding[] = [];
  cidrs.forEach((cidr, i) => {
    const prefix = Number(String(cidr).split("/")[1]);
    if (!(prefix < WIDEST_PLAINTEXT_PREFIX)) return;
    findings.push({
      path: ["spec", "network", "clientCidrs", i],
      problem: `must not be wider than /${WIDEST_PLAINTEXT_PREFIX} while TLS is off`,
      got: String(cidr),
      hint: `etcd without TLS has no authentication: anyone in ${String(cidr)} could read and write every key. Turn TLS on (spec.etcd.tls.enabled: true and spec.etcd.tls.parameterPrefix: /quorate/<cluster>/ holding ca.crt, server.crt, server.key, peer.crt and peer.key in SSM), or narrow the CIDR to your clients' network`,
      rule: "network.plaintextClientCidr",
    });
  });
  return findings;
}

function volumeRules(volume: Raw): RuleFinding[] {
  const at = (field: string) => ["spec", "etcd", "dataVolume", field];
  const findings: RuleFinding[] = [];
  if (volume.deviceName === ROOT_DEVICE_NAME) {
    findings.push({
      path: at("deviceName"),
      problem: "must not be the root device",
      got: volume.deviceName,
      hint: "Flatcar's root volume is /dev/xvda; keep the data volume on another name, for example /dev/xvdb",
      rule: "etcd.volumeNotRoot",
    });
  }
  if (volume.throughput !== undefined && volume.type !== "gp3") {
    findings.push({
      path: at("throughput"),
      problem: "applies to gp3 volumes only",
      got: String(volume.throughput),
      hint: "remove throughput or set type: gp3",
      rule: "etcd.volumeThroughput",
    });
  }
  if (volume.iops !== undefined && volume.type === "gp2") {
    findings.push({
      path: at("iops"),
      problem: "cannot be set for gp2 volumes",
      got: String(volume.iops),
      hint: "gp2 IOPS follow the volume size; use gp3 or io2 to provision IOPS",
      rule: "etcd.volumeIops",
    });
  }
  if (volume.iops === undefined && (volume.type === "io1" || volume.type === "io2")) {
    findings.push({
      path: at("type"),
      problem: `${volume.type} needs iops`,
      hint: "provisioned-IOPS volumes need an iops value",
      rule: "etcd.volumeIopsRequired",
    });
  }
  return findings;
}

function gateRules(spec: Raw): RuleFinding[] {
  const gates = spec.gates ?? {};
  const stableFor = parseIsoDuration(gates.stableFor);
  const abortAfter = parseIsoDuration(gates.abortAfter);
  if (stableFor !== undefined && abortAfter !== undefined && abortAfter <= stableFor) {
    return [
      {
        path: ["spec", "gates", "abortAfter"],
        problem: `must be longer than stableFor (${gates.stableFor})`,
        got: gates.abortAfter,
        hint: "otherwise a rollout is cancelled before a healthy cluster could ever prove itself stable",
        rule: "gates.abortAfterStableFor",
      },
    ];
  }
  return [];
}

function backupRules(spec: Raw, name: string): RuleFinding[] {
  const findings: RuleFinding[] = [];
  if (spec.restore && !spec.backup) {
    findings.push({
      path: ["spec", "restore"],
      problem: "needs spec.backup",
      hint: "a restore reads its snapshot from spec.backup's bucket and prefix; add spec.backup with the bucket the snapshot is in",
      rule: "restore.needsBackup",
    });
  }
  const backup = spec.backup;
  if (!backup) return findings;
  const encryption = backup.encryption ?? {};
  if (encryption.kmsKeyId !== undefined && encryption.type !== "SSE-KMS") {
    findings.push({
      path: ["spec", "backup", "encryption", "kmsKeyId"],
      problem: "applies to SSE-KMS only",
      got: JSON.stringify(encryption.kmsKeyId),
      hint: "set encryption.type: SSE-KMS, or remove kmsKeyId to keep SSE-S3",
      rule: "backup.kmsKeyNeedsKms",
    });
  }
  const snapshot = spec.restore?.snapshot;
  const prefix: string = backup.prefix ?? `${name}/`;
  if (typeof snapshot === "string" && snapshot !== "latest" && !snapshot.startsWith(prefix)) {
    findings.push({
      path: ["spec", "restore", "snapshot"],
      problem: `must be latest or a key under the backup prefix ${prefix}`,
      got: JSON.stringify(snapshot),
      hint: "copy a key from `quorate backups CLUSTER`; members may only read their own cluster's prefix",
      rule: "restore.snapshotUnderPrefix",
    });
  }
  return findings;
}
