// The local cloud's S3 through the real @aws-sdk/client-s3 and lib-storage
// (path-style): buckets, objects with metadata and encryption, ListObjectsV2
// pages, multipart uploads, persistence across a restart, and faults.
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalCloud } from "../../src/localcloud/index.js";
import { REGION, removeDir, startTestCloud, tempDir } from "./cloudHelpers.js";

const MiB = 1024 * 1024;

function s3For(endpoint: string): S3Client {
  return new S3Client({
    region: REGION,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 2,
  });
}

async function bodyOf(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A stream of `size` pseudo-random bytes in 1 MiB chunks, and the sha256 it will have. */
function randomStream(size: number): { stream: Readable; data: Buffer } {
  const data = randomBytes(size);
  const chunks: Buffer[] = [];
  for (let i = 0; i < size; i += MiB) chunks.push(data.subarray(i, i + MiB));
  return { stream: Readable.from(chunks), data };
}

let dataDir: string;
let cloud: LocalCloud;
let s3: S3Client;

beforeAll(async () => {
  dataDir = await tempDir("quorate-s3-");
  cloud = await startTestCloud(dataDir, { withoutEtcd: true });
  s3 = s3For(cloud.endpoint);
});

afterAll(async () => {
  await cloud?.close();
  await removeDir(dataDir);
});

describe("buckets", () => {
  it("creates, finds, lists and deletes a bucket; refuses to delete one that holds objects", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "b-one" }));
    await expect(s3.send(new CreateBucketCommand({ Bucket: "b-one" }))).rejects.toMatchObject({
      name: "BucketAlreadyOwnedByYou",
    });
    await s3.send(new HeadBucketCommand({ Bucket: "b-one" }));
    await expect(s3.send(new HeadBucketCommand({ Bucket: "b-none" }))).rejects.toMatchObject({
      name: "NotFound",
    });
    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets?.map((b) => b.Name)).toContain("b-one");

    await s3.send(new PutObjectCommand({ Bucket: "b-one", Key: "k", Body: "x" }));
    await expect(s3.send(new DeleteBucketCommand({ Bucket: "b-one" }))).rejects.toMatchObject({
      name: "BucketNotEmpty",
    });
    await s3.send(new DeleteObjectCommand({ Bucket: "b-one", Key: "k" }));
    await s3.send(new DeleteBucketCommand({ Bucket: "b-one" }));
    await expect(s3.send(new HeadBucketCommand({ Bucket: "b-one" }))).rejects.toMatchObject({
      name: "NotFound",
    });
    await expect(
      s3.send(new PutObjectCommand({ Bucket: "b-none", Key: "k", Body: "x" })),
    ).rejects.toMatchObject({ name: "NoSuchBucket" });
  });
});

describe("objects", () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "objects" }));
  });

  it("keeps a body, its metadata, content type and server-side encryption", async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: "objects",
        Key: "dev/snap shot+1.db",
        Body: "hello etcd",
        ContentType: "application/octet-stream",
        Metadata: { revision: "42", member: "i-0abc" },
        ServerSideEncryption: "aws:kms",
        SSEKMSKeyId: "alias/quorate",
      }),
    );
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: "objects", Key: "dev/snap shot+1.db" }),
    );
    expect(head).toMatchObject({
      ContentLength: 10,
      ContentType: "application/octet-stream",
      Metadata: { revision: "42", member: "i-0abc" },
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: "alias/quorate",
      ETag: `"${createHash("md5").update("hello etcd").digest("hex")}"`,
    });
    expect((await bodyOf(s3, "objects", "dev/snap shot+1.db")).toString()).toBe("hello etcd");

    await s3.send(
      new PutObjectCommand({
        Bucket: "objects",
        Key: "sse-s3",
        Body: "x",
        ServerSideEncryption: "AES256",
      }),
    );
    const sse = await s3.send(new HeadObjectCommand({ Bucket: "objects", Key: "sse-s3" }));
    expect(sse.ServerSideEncryption).toBe("AES256");

    await s3.send(new DeleteObjectCommand({ Bucket: "objects", Key: "dev/snap shot+1.db" }));
    await expect(
      s3.send(new GetObjectCommand({ Bucket: "objects", Key: "dev/snap shot+1.db" })),
    ).rejects.toMatchObject({ name: "NoSuchKey" });
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: "objects", Key: "dev/snap shot+1.db" })),
    ).rejects.toMatchObject({ name: "NotFound" });
    // Deleting what is not there is not an error, as on S3.
    await s3.send(new DeleteObjectCommand({ Bucket: "objects", Key: "never-was" }));
  });

  it("reads a streamed body (aws-chunked with a CRC32 trailer)", async () => {
    const { stream, data } = randomStream(3 * MiB + 17);
    await s3.send(
      new PutObjectCommand({
        Bucket: "objects",
        Key: "streamed",
        Body: stream,
        ContentLength: data.length,
      }),
    );
    const back = await bodyOf(s3, "objects", "streamed");
    expect(back.length).toBe(data.length);
    expect(sha256(back)).toBe(sha256(data));
  });

  it("lists keys in pages, by prefix and with a delimiter", async () => {
    for (const key of ["list/a", "list/b", "list/c/1", "list/c/2", "list/d", "other"]) {
      await s3.send(new PutObjectCommand({ Bucket: "objects", Key: key, Body: key }));
    }
    const keys: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2(
      { client: s3, pageSize: 2 },
      { Bucket: "objects", Prefix: "list/" },
    )) {
      pages++;
      keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ""));
    }
    expect(keys).toEqual(["list/a", "list/b", "list/c/1", "list/c/2", "list/d"]);
    expect(pages).toBe(3);

    const grouped = await s3.send(
      new ListObjectsV2Command({ Bucket: "objects", Prefix: "list/", Delimiter: "/" }),
    );
    expect(grouped.Contents?.map((o) => o.Key)).toEqual(["list/a", "list/b", "list/d"]);
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["list/c/"]);
    expect(grouped.Contents?.[0]).toMatchObject({ Size: 6, StorageClass: "STANDARD" });
  });
});

describe("multipart uploads", () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "multi" }));
  });

  it("takes a stream through lib-storage in parts and gives it back whole", async () => {
    const { stream, data } = randomStream(12 * MiB + 5);
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: "multi",
        Key: "big",
        Body: stream,
        Metadata: { sha256: sha256(data) },
        ServerSideEncryption: "AES256",
      },
      partSize: 5 * MiB,
      queueSize: 2,
    });
    const done = await upload.done();
    expect(done.ETag).toMatch(/-3"$/);
    const head = await s3.send(new HeadObjectCommand({ Bucket: "multi", Key: "big" }));
    expect(head).toMatchObject({
      ContentLength: data.length,
      Metadata: { sha256: sha256(data) },
      ServerSideEncryption: "AES256",
    });
    expect(sha256(await bodyOf(s3, "multi", "big"))).toBe(sha256(data));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: "multi" }));
    expect(uploads.Uploads ?? []).toEqual([]);
  });

  it("refuses parts below 5 MiB except the last, wrong ETags, and unknown uploads", async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "multi", Key: "small-parts" }),
    );
    const parts = [];
    for (const n of [1, 2]) {
      const out = await s3.send(
        new UploadPartCommand({
          Bucket: "multi",
          Key: "small-parts",
          UploadId,
          PartNumber: n,
          Body: Buffer.alloc(1024, n),
        }),
      );
      parts.push({ PartNumber: n, ETag: out.ETag });
    }
    await expect(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "multi",
          Key: "small-parts",
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      ),
    ).rejects.toMatchObject({ name: "EntityTooSmall" });
    await expect(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: "multi",
          Key: "small-parts",
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"00"' }] },
        }),
      ),
    ).rejects.toMatchObject({ name: "InvalidPart" });
    await s3.send(
      new AbortMultipartUploadCommand({ Bucket: "multi", Key: "small-parts", UploadId }),
    );
    await expect(
      s3.send(
        new UploadPartCommand({
          Bucket: "multi",
          Key: "small-parts",
          UploadId,
          PartNumber: 3,
          Body: "x",
        }),
      ),
    ).rejects.toMatchObject({ name: "NoSuchUpload" });
  });
});

describe("faults", () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "faulty" }));
  });

  it("fails writes under a prefix until the fault is cleared", async () => {
    await cloud.admin.s3Fault({ mode: "fail", bucket: "faulty", keyPrefix: "dev/" });
    await expect(
      s3.send(new PutObjectCommand({ Bucket: "faulty", Key: "dev/a", Body: "x" })),
    ).rejects.toMatchObject({ name: "InternalError", $metadata: { httpStatusCode: 500 } });
    await s3.send(new PutObjectCommand({ Bucket: "faulty", Key: "prod/a", Body: "x" }));
    await cloud.admin.clearFaults();
    await s3.send(new PutObjectCommand({ Bucket: "faulty", Key: "dev/a", Body: "x" }));
  });

  it("stores a truncated upload shorter than sent, while answering success", async () => {
    await cloud.admin.s3Fault({ mode: "truncate", bucket: "faulty", count: 1 });
    const { stream, data } = randomStream(11 * MiB);
    await new Upload({
      client: s3,
      params: { Bucket: "faulty", Key: "cut", Body: stream },
      partSize: 5 * MiB,
    }).done();
    const head = await s3.send(new HeadObjectCommand({ Bucket: "faulty", Key: "cut" }));
    expect(head.ContentLength).toBe(Math.floor(data.length / 2));
    const back = await bodyOf(s3, "faulty", "cut");
    expect(back.length).toBe(Math.floor(data.length / 2));
    expect(back.equals(data.subarray(0, back.length))).toBe(true);
    expect((await cloud.admin.faults()).s3).toEqual([]);
  });

  it("corrupts a stored object in place: same size and ETag, different bytes", async () => {
    const data = randomBytes(4096);
    await s3.send(new PutObjectCommand({ Bucket: "faulty", Key: "rot", Body: data }));
    const before = await s3.send(new HeadObjectCommand({ Bucket: "faulty", Key: "rot" }));
    const { offset } = await cloud.admin.corruptObject({ bucket: "faulty", key: "rot" });
    const after = await s3.send(new HeadObjectCommand({ Bucket: "faulty", Key: "rot" }));
    expect(after.ETag).toBe(before.ETag);
    const back = await bodyOf(s3, "faulty", "rot");
    expect(back.length).toBe(data.length);
    expect(back[offset]).toBe((data[offset] ?? 0) ^ 0xff);
    expect(sha256(back)).not.toBe(sha256(data));
  });
});

describe("persistence", () => {
  it("keeps buckets, objects and unfinished uploads across a restart", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: "kept" }));
    const { stream, data } = randomStream(6 * MiB);
    await new Upload({ client: s3, params: { Bucket: "kept", Key: "a/b", Body: stream } }).done();
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: "kept", Key: "pending" }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: "kept",
        Key: "pending",
        UploadId,
        PartNumber: 1,
        Body: "tail",
      }),
    );

    await cloud.close();
    cloud = await startTestCloud(dataDir, { withoutEtcd: true });
    s3 = s3For(cloud.endpoint);

    expect(sha256(await bodyOf(s3, "kept", "a/b"))).toBe(sha256(data));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: "kept",
        Key: "pending",
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect((await bodyOf(s3, "kept", "pending")).toString()).toBe("tail");
    const counters = await cloud.admin.counters();
    expect(counters["s3:GetObject"]).toBe(2);
  });
});
