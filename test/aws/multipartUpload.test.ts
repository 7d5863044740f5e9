// uploadInParts against the local cloud's S3 through the real S3 client: the
// object is every chunk in order whatever the chunks' sizes, an empty body is
// an empty object, and a body or a part that fails leaves no object and no
// multipart upload behind.
import { createHash, randomBytes } from "node:crypto";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uploadInParts } from "../../src/aws/multipartUpload.js";
import type { LocalCloud } from "../../src/localcloud/index.js";
import { REGION, removeDir, startTestCloud, tempDir } from "../localcloud/cloudHelpers.js";

const MiB = 1024 * 1024;
const POOL = { partSize: 5 * MiB, partsInFlight: 2 };
const BUCKET = "parts";

let dataDir: string;
let cloud: LocalCloud;
let s3: S3Client;

beforeAll(async () => {
  dataDir = await tempDir("quorate-multipart-");
  cloud = await startTestCloud(dataDir, { withoutEtcd: true });
  s3 = new S3Client({
    region: REGION,
    endpoint: cloud.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1, // a fault is seen at once, not retried away
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});

afterAll(async () => {
  await cloud?.close();
  await removeDir(dataDir);
});

async function* chunksOf(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

async function stored(key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

async function uploadsLeft(): Promise<number> {
  return (await s3.send(new ListMultipartUploadsCommand({ Bucket: BUCKET }))).Uploads?.length ?? 0;
}

const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");

describe("uploadInParts", () => {
  it.each([
    ["2.4 parts in 333 KiB chunks", 12 * MiB + 5, 333 * 1024],
    ["exactly 2 parts in chunks larger than a part", 10 * MiB, 7 * MiB],
    ["less than a part in one chunk", 1000, 1000],
    ["nothing at all", 0, 1],
  ])("stores %s, byte for byte", async (_, size, chunk) => {
    const data = randomBytes(size);
    const key = `whole-${size}-${chunk}`;
    await uploadInParts(
      s3,
      { Bucket: BUCKET, Key: key, Metadata: { cluster: "dev" } },
      chunksOf(data, chunk),
      POOL,
    );
    expect(sha256(await stored(key))).toBe(sha256(data));
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    expect(head).toMatchObject({ ContentLength: size, Metadata: { cluster: "dev" } });
    expect(await uploadsLeft()).toBe(0);
  });

  it("aborts when the body throws: no object, no upload left", async () => {
    async function* breaking(): AsyncGenerator<Buffer> {
      yield randomBytes(6 * MiB);
      throw new Error("the member went away");
    }
    await expect(
      uploadInParts(s3, { Bucket: BUCKET, Key: "broken-body" }, breaking(), POOL),
    ).rejects.toThrow("the member went away");
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "broken-body" })),
    ).rejects.toMatchObject({ name: "NotFound" });
    expect(await uploadsLeft()).toBe(0);
  });

  it("aborts when S3 fails a part, and stops reading the body", async () => {
    let read = 0;
    async function* body(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 40; i++) {
        // After the first part, every write of the key fails.
        if (i === 2)
          await cloud.admin.s3Fault({ mode: "fail", bucket: BUCKET, keyPrefix: "failing" });
        read++;
        yield randomBytes(3 * MiB);
      }
    }
    try {
      await expect(
        uploadInParts(s3, { Bucket: BUCKET, Key: "failing-part" }, body(), POOL),
      ).rejects.toMatchObject({ name: "InternalError" });
    } finally {
      await cloud.admin.clearFaults();
    }
    expect(read).toBeLessThan(40);
    await expect(
      s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "failing-part" })),
    ).rejects.toMatchObject({ name: "NotFound" });
    expect(await uploadsLeft()).toBe(0);
  });

  it("refuses parts smaller than S3 takes", async () => {
    await expect(
      uploadInParts(s3, { Bucket: BUCKET, Key: "tiny" }, chunksOf(Buffer.alloc(10), 1), {
        partSize: MiB,
        partsInFlight: 1,
      }),
    ).rejects.toThrow(/too small/);
  });
});
