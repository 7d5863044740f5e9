// Snapshots of a real 3-member etcd to the local cloud's S3 through the real
// S3 client: taken from a follower, byte for byte what etcdctl reads, listed
// good only when whole; a truncated or failed upload leaves nothing good;
// retention keeps the newest N; a member serving clients over TLS with client
// certificates streams its snapshot over gRPC with the same certificates.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { createAwsClientPool } from "../../src/aws/clients.js";
import { createSnapshotBucket } from "../../src/aws/snapshotBucket.js";
import { probeCluster } from "../../src/etcd/probe.js";
import { snapshotBytes } from "../../src/etcd/snapshotStream.js";
import type { LocalCloud } from "../../src/localcloud/index.js";
import { parseManifests } from "../../src/manifest/parse.js";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { readCatalog, takeSnapshot, verifySnapshot } from "../../src/reconcile/backup/snapshots.js";
import {
  type EtcdTestCluster,
  opensslAvailable,
  startEtcdCluster,
} from "../helpers/etcdCluster.js";
import { removeDir, startTestCloud, tempDir } from "../localcloud/cloudHelpers.js";

const DEV = readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8");

function devSpec(backup: Record<string, unknown>): ClusterSpec {
  const manifest = parse(DEV);
  manifest.spec.backup = backup;
  const set = parseManifests([{ file: "dev.yaml", text: stringify(manifest) }]);
  expect(set.errors).toEqual([]);
  return set.clusters[0]!;
}

let etcd: EtcdTestCluster;
let cloud: LocalCloud;
let dataDir: string;
let aws: ReturnType<typeof createAwsClientPool>;

beforeAll(async () => {
  dataDir = await tempDir("quorate-snapshots-");
  [etcd, cloud] = await Promise.all([
    startEtcdCluster({ size: 3 }),
    startTestCloud(dataDir, { withoutEtcd: true }),
  ]);
  aws = createAwsClientPool({ endpoint: cloud.endpoint });
  await aws("eu-west-1").s3.send(new CreateBucketCommand({ Bucket: "snaps" }));
  const client = etcd.client(0);
  for (let i = 0; i < 500; i++)
    await client.put(`key/${String(i).padStart(4, "0")}`, "v".repeat(200));
  client.close();
});

afterAll(async () => {
  await etcd?.stop();
  await cloud?.close();
  await removeDir(dataDir);
});

const probe = () => probeCluster(etcd.endpoints, { ...etcd.clientOptions, timeoutMs: 2000 });

describe("a snapshot", () => {
  it("streams from a follower to S3 and is what etcdctl reads, with its revision and sha256 recorded", async () => {
    const spec = devSpec({ bucket: "snaps" });
    const seen = await probe();
    const leader = seen.endpoints.find((e) => e.status?.leader === e.status?.header.memberId);
    const taken = await takeSnapshot({ aws, etcd: etcd.clientOptions }, spec, seen);
    const m = taken.manifest;
    expect(m.member.endpoint).not.toBe(leader?.endpoint);
    expect(m).toMatchObject({ cluster: "dev", object: `dev/${m.id}.db`, etcdVersion: "3.4.23" });
    expect(BigInt(m.revision)).toBeGreaterThanOrEqual(501n);

    const bucket = createSnapshotBucket(aws("eu-west-1").s3, spec.backup!);
    const chunks: Buffer[] = [];
    for await (const chunk of await bucket.read(m.object)) chunks.push(chunk as Buffer);
    const object = Buffer.concat(chunks);
    expect(object.length).toBe(m.size);
    expect(createHash("sha256").update(object).digest("hex")).toBe(m.sha256);

    // etcdctl checks etcd's trailing hash and reads the revision and keys out of the file.
    const file = join(etcd.dir, "downloaded.db");
    writeFileSync(file, object);
    const status = JSON.parse(
      execFileSync("etcdctl", ["snapshot", "status", file, "-w", "json"], {
        env: { ...process.env, ETCDCTL_API: "3" },
      }).toString(),
    );
    expect(BigInt(status.revision)).toBe(BigInt(m.revision));
    expect(status.totalKey).toBeGreaterThanOrEqual(500);

    const catalog = await readCatalog(bucket);
    expect(catalog.map((s) => [s.id, s.state])).toEqual([[m.id, "good"]]);
    expect(await verifySnapshot(bucket, catalog[0]!)).toBeUndefined();
  });

  it("is never left looking good when S3 stores it cut short or fails", async () => {
    const spec = devSpec({ bucket: "snaps", prefix: "faults/" });
    const bucket = createSnapshotBucket(aws("eu-west-1").s3, spec.backup!);

    await cloud.admin.s3Fault({
      mode: "truncate",
      bucket: "snaps",
      keyPrefix: "faults/",
      count: 1,
    });
    await expect(
      takeSnapshot({ aws, etcd: etcd.clientOptions }, spec, await probe()),
    ).rejects.toThrow(/snapshot of dev is incomplete: S3 holds \d+ of the \d+ bytes streamed/);
    expect(await bucket.list()).toEqual([]);

    await cloud.admin.s3Fault({ mode: "fail", bucket: "snaps", keyPrefix: "faults/" });
    await expect(
      takeSnapshot({ aws, etcd: etcd.clientOptions }, spec, await probe()),
    ).rejects.toThrow(/snapshot of dev from .+ failed after \d+ bytes: .*InternalError/);
    await cloud.admin.clearFaults();
    expect((await readCatalog(bucket)).filter((s) => s.state === "good")).toEqual([]);
  });

  it("is refused by verification once its object is corrupted", async () => {
    const spec = devSpec({ bucket: "snaps", prefix: "rot/" });
    const bucket = createSnapshotBucket(aws("eu-west-1").s3, spec.backup!);
    const { manifest } = await takeSnapshot({ aws, etcd: etcd.clientOptions }, spec, await probe());
    await cloud.admin.corruptObject({ bucket: "snaps", key: manifest.object });
    const [snapshot] = await readCatalog(bucket);
    expect(snapshot?.state).toBe("good"); // the listing cannot see bit rot; the hash does
    expect(await verifySnapshot(bucket, snapshot!)).toMatch(/the object is corrupt$/);
  });

  it("keeps the newest N good snapshots under retention", async () => {
    const spec = devSpec({ bucket: "snaps", prefix: "kept/", retention: { keepLast: 2 } });
    const bucket = createSnapshotBucket(aws("eu-west-1").s3, spec.backup!);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const taken = await takeSnapshot({ aws, etcd: etcd.clientOptions }, spec, await probe());
      ids.push(taken.manifest.id);
      if (i === 2) expect(taken.pruned.map((p) => p.snapshot.id)).toEqual([ids[0]]);
    }
    const catalog = await readCatalog(bucket);
    expect(catalog.map((s) => s.id)).toEqual([ids[2], ids[1]]);
    expect((await bucket.list()).length).toBe(4); // two objects, two manifests
  });
});

describe.skipIf(!opensslAvailable())("a snapshot of a member serving clients over TLS", () => {
  let secure: EtcdTestCluster;
  beforeAll(async () => {
    secure = await startEtcdCluster({ size: 1, tls: { clientCertAuth: true } });
    const client = secure.client(0);
    for (let i = 0; i < 50; i++) await client.put(`tls/${i}`, "v".repeat(200));
    client.close();
  });
  afterAll(async () => {
    await secure?.stop();
  });

  it("streams with the CA and client certificate, and is what etcdctl reads", async () => {
    const spec = devSpec({ bucket: "snaps", prefix: "tls/" });
    const seen = await probeCluster(secure.endpoints, { ...secure.clientOptions, timeoutMs: 2000 });
    expect(seen.endpoints[0]?.endpoint).toMatch(/^https:/);
    const { manifest } = await takeSnapshot({ aws, etcd: secure.clientOptions }, spec, seen);
    const bucket = createSnapshotBucket(aws("eu-west-1").s3, spec.backup!);
    const chunks: Buffer[] = [];
    for await (const chunk of await bucket.read(manifest.object)) chunks.push(chunk as Buffer);
    const file = join(secure.dir, "downloaded.db");
    writeFileSync(file, Buffer.concat(chunks));
    const status = JSON.parse(
      execFileSync("etcdctl", ["snapshot", "status", file, "-w", "json"], {
        env: { ...process.env, ETCDCTL_API: "3" },
      }).toString(),
    );
    expect(BigInt(status.revision)).toBe(BigInt(manifest.revision));
    expect(await verifySnapshot(bucket, (await readCatalog(bucket))[0]!)).toBeUndefined();
  });

  it("fails as a TLS problem without the client certificate, and without the CA", async () => {
    const endpoint = secure.endpoints[0] ?? "";
    const ca = secure.clientOptions.tls?.ca ?? "";
    const drain = async (tls: { ca?: string | Buffer }) => {
      try {
        for await (const _ of snapshotBytes(endpoint, { bytes: 0 }, { tls })) {
          // read on
        }
        return undefined;
      } catch (error) {
        return error as Error & { failure?: string };
      }
    };
    expect(await drain({ ca })).toMatchObject({ failure: "tls" });
    expect(await drain({})).toMatchObject({ failure: "tls" });
  });
});
