// Every S3 call quorate makes, in one place, on the real @aws-sdk/client-s3:
// snapshots stream up in parts through a fixed pool of part buffers
// (multipartUpload.ts), manifests are small JSON objects, listings page through
// ListObjectsV2. S3_PERMISSIONS says which IAM actions these calls need.
import type { Readable } from "node:stream";
import type { S3Client, ServerSideEncryption } from "@aws-sdk/client-s3";
import type { BackupSpec } from "../manifest/types.js";
import { classifyAwsError } from "./awsErrors.js";
import { uploadInParts } from "./multipartUpload.js";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
} from "./sdk.js";

/**
 * The IAM actions on arn:aws:s3:::BUCKET/PREFIX* (objects) and
 * arn:aws:s3:::BUCKET (ListBucket, with an s3:prefix condition) that each
 * side needs. quorate: take, list, verify and prune snapshots; a member:
 * only read one, to restore (src/render/instanceRole.ts renders that).
 */
export const S3_PERMISSIONS = {
  quorate: {
    objects: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
    bucket: ["s3:ListBucket"],
  },
  member: { objects: ["s3:GetObject"], bucket: [] },
} as const;

/**
 * 8 MiB parts, 4 in flight: 32 MiB of a snapshot in memory, and objects up to
 * 78 GiB in 10,000 parts, far above the 8 GiB cap of
 * spec.etcd.quotaBackendBytes. With the SDK bundled (src/aws/sdk.ts) the
 * snapshot bench peaked at 159-173 MiB with them, under its 200 MiB goal
 * (bench/RESULTS.md).
 */
export const PART_SIZE = 8 * 1024 * 1024;
export const PARTS_IN_FLIGHT = 4;

export interface ListedObject {
  key: string;
  size: number;
  lastModified: Date;
}

export interface SnapshotBucket {
  readonly bucket: string;
  readonly prefix: string;
  /** Streams a body to `key` in parts; returns once S3 has the whole object. */
  upload(key: string, body: AsyncIterable<Buffer>, metadata: Record<string, string>): Promise<void>;
  /** The stored size of `key`, or undefined when there is no such object. */
  size(key: string): Promise<number | undefined>;
  putJson(key: string, value: unknown): Promise<void>;
  /** The parsed JSON object at `key`, or undefined when there is none. */
  getJson(key: string): Promise<unknown>;
  /** Every object under the prefix, in key order. */
  list(): Promise<ListedObject[]>;
  read(key: string): Promise<Readable>;
  remove(key: string): Promise<void>;
}

function encryptionParams(backup: BackupSpec): {
  ServerSideEncryption: ServerSideEncryption;
  SSEKMSKeyId?: string;
} {
  if (backup.encryption.type === "SSE-KMS") {
    return {
      ServerSideEncryption: "aws:kms",
      ...(backup.encryption.kmsKeyId ? { SSEKMSKeyId: backup.encryption.kmsKeyId } : {}),
    };
  }
  return { ServerSideEncryption: "AES256" };
}

function isMissing(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

export function createSnapshotBucket(s3: S3Client, backup: BackupSpec): SnapshotBucket {
  const Bucket = backup.bucket;
  const where = (key: string) => `s3://${Bucket}/${key}`;
  const wrap = async <T>(doing: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw classifyAwsError(error, doing);
    }
  };
  return {
    bucket: Bucket,
    prefix: backup.prefix,
    upload: (key, body, metadata) =>
      wrap(`uploading ${where(key)}`, async () => {
        await uploadInParts(
          s3,
          {
            Bucket,
            Key: key,
            ContentType: "application/octet-stream",
            Metadata: metadata,
            ...encryptionParams(backup),
          },
          body,
          { partSize: PART_SIZE, partsInFlight: PARTS_IN_FLIGHT },
        );
      }),
    size: (key) =>
      wrap(`reading ${where(key)}`, async () => {
        try {
          const head = await s3.send(new HeadObjectCommand({ Bucket, Key: key }));
          return head.ContentLength ?? 0;
        } catch (error) {
          if (isMissing(error)) return undefined;
          throw error;
        }
      }),
    putJson: (key, value) =>
      wrap(`writing ${where(key)}`, async () => {
        await s3.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: `${JSON.stringify(value, null, 2)}\n`,
            ContentType: "application/json",
            ...encryptionParams(backup),
          }),
        );
      }),
    getJson: (key) =>
      wrap(`reading ${where(key)}`, async () => {
        try {
          const out = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
          const text = (await out.Body?.transformToString("utf8")) ?? "";
          try {
            return JSON.parse(text) as unknown;
          } catch {
            return { unreadable: text.slice(0, 200) };
          }
        } catch (error) {
          if (isMissing(error)) return undefined;
          throw error;
        }
      }),
    list: () =>
      wrap(`listing s3://${Bucket}/${backup.prefix}`, async () => {
        const out: ListedObject[] = [];
        for await (const page of paginateListObjectsV2(
          { client: s3 },
          { Bucket, Prefix: backup.prefix },
        )) {
          for (const o of page.Contents ?? []) {
            if (o.Key === undefined) continue;
            out.push({
              key: o.Key,
              size: o.Size ?? 0,
              lastModified: o.LastModified ?? new Date(0),
            });
          }
        }
        return out;
      }),
    read: (key) =>
      wrap(`reading ${where(key)}`, async () => {
        const out = await s3.send(new GetObjectCommand({ Bucket, Key: key }));
        if (!out.Body) throw new Error("the object has no body");
        return out.Body as Readable;
      }),
    remove: (key) =>
      wrap(`deleting ${where(key)}`, async () => {
        await s3.send(new DeleteObjectCommand({ Bucket, Key: key }));
      }),
  };
}
