// The rules an operator reading the rendered stack asked for (issue 18): each
// refused manifest is named at FILE:LINE:COL with the reason and the way out.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatManifestError } from "../../src/manifest/manifestError.js";
import { parseManifests } from "../../src/manifest/parse.js";

const DEV = readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8");

function errorsOf(text: string): string[] {
  return parseManifests([{ file: "clusters/dev.yaml", text }]).errors.map(formatManifestError);
}

/** dev.yaml with one line replaced, so that positions stay those of the real file. */
function devWithLine(from: string, to: string): string {
  expect(DEV).toContain(from);
  return DEV.replace(from, to);
}

const lineOf = (text: string, needle: string) =>
  text.split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("plaintext etcd open to the world is refused", () => {
  it.each(["0.0.0.0/0", "10.0.0.0/7", "128.0.0.0/1"])("refuses %s with TLS off", (cidr) => {
    const text = devWithLine("- 10.0.0.0/16 ", `- ${cidr} `);
    const line = lineOf(text, `- ${cidr}`);
    expect(errorsOf(text)).toEqual([
      `clusters/dev.yaml:${line}:9: spec.network.clientCidrs[0]: must not be wider than /8 while TLS is off (got ${cidr}): etcd without TLS has no authentication: anyone in ${cidr} could read and write every key. Turn TLS on (spec.etcd.tls.enabled: true and spec.etcd.tls.parameterPrefix: /quorate/<cluster>/ holding ca.crt, server.crt, server.key, peer.crt and peer.key in SSM), or narrow the CIDR to your clients' network`,
    ]);
  });

  it("accepts a /8 with TLS off, and 0.0.0.0/0 with TLS on", () => {
    expect(errorsOf(devWithLine("- 10.0.0.0/16 ", "- 10.0.0.0/8 "))).toEqual([]);
    const tls = devWithLine("- 10.0.0.0/16 ", "- 0.0.0.0/0 ").replace(
      "    version: 3.5.17 ",
      "    tls: { enabled: true, parameterPrefix: /quorate/dev/ }\n    version: 3.5.17 ",
    );
    expect(errorsOf(tls)).toEqual([]);
  });
});

describe("auto-compaction and volumes", () => {
  it("refuses a duration as a revision retention, at its line", () => {
    const text = devWithLine(
      "    version: 3.5.17 ",
      "    autoCompaction:\n      mode: revision\n      retention: 1h\n    version: 3.5.17 ",
    );
    const line = lineOf(text, "retention: 1h");
    expect(errorsOf(text)).toEqual([
      `clusters/dev.yaml:${line}:18: spec.etcd.autoCompaction.retention: must be a number of revisions in mode revision (got "1h"): write how many revisions to keep, for example 10000, or use mode: periodic to keep a duration`,
    ]);
  });

  it("refuses a retention etcd cannot read, and a KMS alias", () => {
    const text = devWithLine(
      "    version: 3.5.17 ",
      "    autoCompaction: { retention: one-hour }\n    version: 3.5.17 ",
    ).replace(
      "  terminationProtection: false",
      "  kmsKeyId: alias/etcd\n  terminationProtection: false",
    );
    expect(errorsOf(text)).toEqual([
      `clusters/dev.yaml:${lineOf(text, "one-hour")}:34: spec.etcd.autoCompaction.retention: is not a retention etcd reads (got "one-hour"): write a duration such as 1h, 30m or 1h30m for mode periodic, or a number of revisions such as 10000 for mode revision`,
      `clusters/dev.yaml:${lineOf(text, "alias/etcd")}:13: spec.kmsKeyId: is not a KMS key id or key ARN (got "alias/etcd"): give the key id (1234abcd-12ab-34cd-56ef-1234567890ab) or its key ARN; an alias cannot scope the members' kms:Decrypt to one key`,
    ]);
  });

  it("refuses the root device as the data volume's device", () => {
    const text = devWithLine(
      "    version: 3.5.17 ",
      "    dataVolume: { deviceName: /dev/xvda }\n    version: 3.5.17 ",
    );
    expect(errorsOf(text)).toEqual([
      `clusters/dev.yaml:${lineOf(text, "/dev/xvda")}:31: spec.etcd.dataVolume.deviceName: must not be the root device (got /dev/xvda): Flatcar's root volume is /dev/xvda; keep the data volume on another name, for example /dev/xvdb`,
    ]);
  });
});

describe("the instance type's architecture", () => {
  it.each(["m6g.large", "c7g.xlarge", "r8gd.2xlarge", "t4g.medium", "a1.large", "im4gn.large"])(
    "accepts the Graviton type %s: its image comes from the arm64-usr feed",
    (type) => {
      expect(errorsOf(devWithLine("instanceType: t3.medium", `instanceType: ${type}`))).toEqual([]);
    },
  );

  it("refuses a Graviton type for coreos-legacy, which had no arm64 images", () => {
    const text = devWithLine("instanceType: t3.medium", "instanceType: m7g.large").replace(
      "    os: flatcar ",
      "    os: coreos-legacy\n    imageId: ami-0123456789abcdef0 #",
    );
    expect(errorsOf(text)).toEqual([
      `clusters/dev.yaml:${lineOf(text, "instanceType:")}:17: spec.instanceType: is an arm64 (Graviton) type, and CoreOS Container Linux had no arm64 images (got m7g.large): use an x86_64 type such as m5.large for coreos-legacy, or move the cluster to os: flatcar`,
    ]);
  });

  it.each(["mac2.metal", "mac2-m2pro.metal"])(
    "refuses %s, which fits neither architecture",
    (type) => {
      const text = devWithLine("instanceType: t3.medium", `instanceType: ${type}`);
      expect(errorsOf(text)).toEqual([
        `clusters/dev.yaml:${lineOf(text, "instanceType:")}:17: spec.instanceType: fits neither image architecture (got ${type}): Flatcar runs on x86_64 (for example m6i.large) and arm64 Graviton types (for example m7g.large); mac instances run macOS only`,
      ]);
    },
  );

  it("accepts x86 types, including GPU and AMD families whose names hold a g elsewhere", () => {
    for (const type of ["m6i.large", "g4dn.xlarge", "m6a.large", "c5n.large", "u-6tb1.metal"]) {
      expect(errorsOf(devWithLine("instanceType: t3.medium", `instanceType: ${type}`))).toEqual([]);
    }
  });

  it("accepts a Graviton type with a pinned image", () => {
    const text = devWithLine("instanceType: t3.medium", "instanceType: m7g.large").replace(
      "    version: 4081.2.0 ",
      "    imageId: ami-0123456789abcdef0\n    version: 4081.2.0 ",
    );
    expect(errorsOf(text)).toEqual([]);
  });
});
