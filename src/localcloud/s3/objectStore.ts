// Buckets, objects and multipart uploads of the local cloud's S3, on disk
// under <dataDir>/s3. Bodies are files streamed in and out, never held in
// memory. Each object's record (key, size, ETag, metadata, body files) is a
// small JSON file written after its body is on disk, by rename, so a local
// cloud killed mid-upload restarts with the old object or the new one, never
// half of one. A completed multipart upload keeps its parts as the object's
// body files (as S3 does), so completing a 1 GiB upload copies nothing.
import { createHash } from "node:crypto";
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { crc32 } from "node:zlib";
import { uuid } from "../ids.js";
import { AwsError } from "../protocol/awsError.js";

export type ServerSideEncryption =
  | { algorithm: "AES256" }
  | { algorithm: "aws:kms"; kmsKeyId: string };

/** What a client sets on an object besides its body. */
export interface ObjectAttributes {
  contentType?: string;
  /** x-amz-meta-* headers, keys lower-case without the prefix. */
  metadata: Record<string, string>;
  sse?: ServerSideEncryption;
}

export interface ObjectRecord extends ObjectAttributes {
  key: string;
  size: number;
  /** Quoted, as S3 sends it: MD5 of the body, or of the parts' MD5s with -N. */
  etag: string;
  lastModified: string;
  /** Base64 CRC32 of a single-part body (multipart objects carry none). */
  crc32?: string;
  /** File names under the bucket's data directory, in order. */
  bodies: string[];
}

export interface BucketRecord {
  name: string;
  region: string;
  createdAt: string;
}

export interface PartRecord {
  partNumber: number;
  size: number;
  etag: string;
  crc32: string;
  body: string;
}

export interface UploadRecord extends ObjectAttributes {
  uploadId: string;
  key: string;
  initiated: string;
  checksumAlgorithm?: string;
  parts: Record<string, PartRecord>;
}

/** A body streamed to a temporary file, with its digests. */
export interface StagedBody {
  file: string;
  size: number;
  md5Hex: string;
  crc32Base64: string;
  /** Computed for a signed payload only. */
  sha256Hex?: string;
}

interface BucketState {
  record: BucketRecord;
  objects: Map<string, ObjectRecord>;
  uploads: Map<string, UploadRecord>;
}

/** S3 refuses parts other than the last below 5 MiB (EntityTooSmall). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function noSuchBucket(bucket: string): AwsError {
  return new AwsError("NoSuchBucket", `The specified bucket does not exist: ${bucket}`, 404);
}

export function noSuchKey(key: string): AwsError {
  return new AwsError("NoSuchKey", `The specified key does not exist: ${key}`, 404);
}

function crcBase64(value: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString("base64");
}

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${uuid()}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value)}\n`);
  renameSync(tmp, path);
}

function recordName(key: string): string {
  return `${createHash("sha256").update(key).digest("hex")}.json`;
}

export class ObjectStore {
  private readonly buckets = new Map<string, BucketState>();

  private constructor(private readonly root: string) {}

  /** Reads every bucket under root; drops temporary files and bodies no record names. */
  static open(root: string): ObjectStore {
    const store = new ObjectStore(root);
    mkdirSync(root, { recursive: true });
    for (const name of readdirSync(root)) {
      const bucketFile = join(root, name, "bucket.json");
      if (!existsSync(bucketFile)) continue;
      const state: BucketState = {
        record: JSON.parse(readFileSync(bucketFile, "utf8")) as BucketRecord,
        objects: new Map(),
        uploads: new Map(),
      };
      for (const [dir, into] of [
        ["objects", state.objects],
        ["uploads", state.uploads],
      ] as const) {
        const path = join(root, name, dir);
        mkdirSync(path, { recursive: true });
        for (const file of readdirSync(path)) {
          if (!file.endsWith(".json")) {
            rmSync(join(path, file), { force: true });
            continue;
          }
          const record = JSON.parse(readFileSync(join(path, file), "utf8")) as ObjectRecord &
            UploadRecord;
          if (dir === "objects") state.objects.set(record.key, record);
          else (into as Map<string, UploadRecord>).set(record.uploadId, record);
        }
      }
      store.buckets.set(name, state);
      store.collectGarbage(state);
    }
    return store;
  }

  private dir(bucket: string, ...parts: string[]): string {
    return join(this.root, bucket, ...parts);
  }

  private collectGarbage(state: BucketState): void {
    const bucket = state.record.name;
    rmSync(this.dir(bucket, "tmp"), { recursive: true, force: true });
    mkdirSync(this.dir(bucket, "tmp"), { recursive: true });
    const used = new Set<string>();
    for (const object of state.objects.values()) for (const body of object.bodies) used.add(body);
    for (const upload of state.uploads.values()) {
      for (const part of Object.values(upload.parts)) used.add(part.body);
    }
    mkdirSync(this.dir(bucket, "data"), { recursive: true });
    for (const file of readdirSync(this.dir(bucket, "data"))) {
      if (!used.has(file)) rmSync(this.dir(bucket, "data", file), { force: true });
    }
  }

  private state(bucket: string): BucketState {
    const state = this.buckets.get(bucket);
    if (!state) throw noSuchBucket(bucket);
    return state;
  }

  createBucket(name: string, region: string): void {
    if (!BUCKET_NAME.test(name) || name.includes("..")) {
      throw new AwsError(
        "InvalidBucketName",
        `The specified bucket is not valid: ${name} (3 to 63 lowercase letters, digits, dots and hyphens)`,
      );
    }
    if (this.buckets.has(name)) {
      throw new AwsError(
        "BucketAlreadyOwnedByYou",
        `Your previous request to create the named bucket succeeded and you already own it: ${name}`,
        409,
      );
    }
    const record: BucketRecord = { name, region, createdAt: new Date().toISOString() };
    for (const dir of ["objects", "uploads", "data", "tmp"])
      mkdirSync(this.dir(name, dir), { recursive: true });
    writeJsonAtomic(this.dir(name, "bucket.json"), record);
    this.buckets.set(name, { record, objects: new Map(), uploads: new Map() });
  }

  bucket(name: string): BucketRecord {
    return this.state(name).record;
  }

  listBuckets(): BucketRecord[] {
    return [...this.buckets.values()]
      .map((b) => b.record)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  deleteBucket(name: string): void {
    const state = this.state(name);
    if (state.objects.size > 0) {
      throw new AwsError(
        "BucketNotEmpty",
        `The bucket you tried to delete is not empty: ${name} holds ${state.objects.size} object(s)`,
        409,
      );
    }
    this.buckets.delete(name);
    rmSync(this.dir(name), { recursive: true, force: true });
  }

  /**
   * Streams a body into a temporary file of the bucket, computing its digests on
   * the way: sha256 only when asked (a signed payload's, which is checked).
   */
  async stage(
    bucket: string,
    source: Readable,
    digests: { sha256: boolean } = { sha256: true },
  ): Promise<StagedBody> {
    this.state(bucket);
    const file = `${uuid()}`;
    const md5 = createHash("md5");
    const sha256 = digests.sha256 ? createHash("sha256") : undefined;
    let crc = 0;
    let size = 0;
    const path = this.dir(bucket, "tmp", file);
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            md5.update(chunk);
            sha256?.update(chunk);
            crc = crc32(chunk, crc);
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(path),
      );
    } catch (error) {
      rmSync(path, { force: true });
      throw error;
    }
    return {
      file,
      size,
      md5Hex: md5.digest("hex"),
      crc32Base64: crcBase64(crc),
      ...(sha256 ? { sha256Hex: sha256.digest("hex") } : {}),
    };
  }

  discard(bucket: string, staged: StagedBody): void {
    rmSync(this.dir(bucket, "tmp", staged.file), { force: true });
  }

  /** Cuts a staged body short (the truncate fault): what is stored is what survived. */
  truncateStaged(bucket: string, staged: StagedBody, bytes: number): StagedBody {
    const size = Math.max(0, Math.min(bytes, staged.size));
    truncateSync(this.dir(bucket, "tmp", staged.file), size);
    return { ...staged, size };
  }

  private adopt(bucket: string, staged: StagedBody): string {
    renameSync(this.dir(bucket, "tmp", staged.file), this.dir(bucket, "data", staged.file));
    return staged.file;
  }

  private writeObject(bucket: string, record: ObjectRecord): void {
    const state = this.state(bucket);
    const old = state.objects.get(record.key);
    writeJsonAtomic(this.dir(bucket, "objects", recordName(record.key)), record);
    state.objects.set(record.key, record);
    if (old) this.removeBodies(bucket, old.bodies);
  }

  private removeBodies(bucket: string, bodies: readonly string[]): void {
    for (const body of bodies) rmSync(this.dir(bucket, "data", body), { force: true });
  }

  putObject(
    bucket: string,
    key: string,
    staged: StagedBody,
    attributes: ObjectAttributes,
  ): ObjectRecord {
    const record: ObjectRecord = {
      key,
      size: staged.size,
      etag: `"${staged.md5Hex}"`,
      lastModified: new Date().toISOString(),
      crc32: staged.crc32Base64,
      bodies: [this.adopt(bucket, staged)],
      ...attributes,
    };
    this.writeObject(bucket, record);
    return record;
  }

  getObject(bucket: string, key: string): ObjectRecord | undefined {
    return this.state(bucket).objects.get(key);
  }

  /** The object's body as one stream over its body files. */
  readBody(bucket: string, record: ObjectRecord): Readable {
    const paths = record.bodies.map((body) => this.dir(bucket, "data", body));
    return Readable.from(
      (async function* () {
        for (const path of paths) yield* createReadStream(path, { highWaterMark: 1024 * 1024 });
      })(),
    );
  }

  deleteObject(bucket: string, key: string): void {
    const state = this.state(bucket);
    const old = state.objects.get(key);
    if (!old) return;
    rmSync(this.dir(bucket, "objects", recordName(key)), { force: true });
    state.objects.delete(key);
    this.removeBodies(bucket, old.bodies);
  }

  /** Every object of the bucket whose key starts with prefix, in key order (UTF-8 bytes, as S3). */
  listObjects(bucket: string, prefix: string): ObjectRecord[] {
    return [...this.state(bucket).objects.values()]
      .filter((o) => o.key.startsWith(prefix))
      .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }

  createUpload(
    bucket: string,
    key: string,
    attributes: ObjectAttributes,
    checksumAlgorithm?: string,
  ): UploadRecord {
    const state = this.state(bucket);
    const upload: UploadRecord = {
      uploadId: createHash("sha256").update(uuid()).digest("base64url"),
      key,
      initiated: new Date().toISOString(),
      parts: {},
      ...attributes,
      ...(checksumAlgorithm ? { checksumAlgorithm } : {}),
    };
    writeJsonAtomic(this.dir(bucket, "uploads", `${upload.uploadId}.json`), upload);
    state.uploads.set(upload.uploadId, upload);
    return upload;
  }

  upload(bucket: string, uploadId: string, key: string): UploadRecord {
    const upload = this.state(bucket).uploads.get(uploadId);
    if (!upload || upload.key !== key) {
      throw new AwsError(
        "NoSuchUpload",
        `The specified multipart upload does not exist (upload ${uploadId} of ${key}): it may have been aborted or completed`,
        404,
      );
    }
    return upload;
  }

  listUploads(bucket: string): UploadRecord[] {
    return [...this.state(bucket).uploads.values()].sort((a, b) => a.key.localeCompare(b.key));
  }

  putPart(
    bucket: string,
    upload: UploadRecord,
    partNumber: number,
    staged: StagedBody,
  ): PartRecord {
    const part: PartRecord = {
      partNumber,
      size: staged.size,
      etag: `"${staged.md5Hex}"`,
      crc32: staged.crc32Base64,
      body: this.adopt(bucket, staged),
    };
    const old = upload.parts[String(partNumber)];
    upload.parts[String(partNumber)] = part;
    writeJsonAtomic(this.dir(bucket, "uploads", `${upload.uploadId}.json`), upload);
    if (old) this.removeBodies(bucket, [old.body]);
    return part;
  }

  /**
   * Completes an upload with the parts the client names, in ascending order;
   * parts uploaded but not named are dropped, as S3 does.
   * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
   */
  completeUpload(
    bucket: string,
    upload: UploadRecord,
    named: readonly { partNumber: number; etag: string }[],
  ): ObjectRecord {
    if (named.length === 0) {
      throw new AwsError(
        "MalformedXML",
        "The XML you provided was not well-formed: it names no part",
      );
    }
    const parts: PartRecord[] = [];
    let previous = 0;
    for (const { partNumber, etag } of named) {
      if (partNumber <= previous) {
        throw new AwsError(
          "InvalidPartOrder",
          "The list of parts was not in ascending order. Parts must be ordered by part number.",
        );
      }
      previous = partNumber;
      const part = upload.parts[String(partNumber)];
      if (!part || part.etag.replaceAll('"', "") !== etag.replaceAll('"', "")) {
        throw new AwsError(
          "InvalidPart",
          `One or more of the specified parts could not be found: part ${partNumber} with ETag ${etag}`,
        );
      }
      parts.push(part);
    }
    parts.forEach((part, i) => {
      if (i < parts.length - 1 && part.size < MIN_PART_SIZE) {
        throw new AwsError(
          "EntityTooSmall",
          `Your proposed upload is smaller than the minimum allowed object size: part ${part.partNumber} has ${part.size} bytes, and every part but the last needs at least ${MIN_PART_SIZE}`,
        );
      }
    });
    const md5 = createHash("md5");
    for (const part of parts) md5.update(Buffer.from(part.etag.replaceAll('"', ""), "hex"));
    const used = new Set(parts.map((p) => p.body));
    const record: ObjectRecord = {
      key: upload.key,
      size: parts.reduce((sum, p) => sum + p.size, 0),
      etag: `"${md5.digest("hex")}-${parts.length}"`,
      lastModified: new Date().toISOString(),
      bodies: parts.map((p) => p.body),
      metadata: upload.metadata,
      ...(upload.contentType ? { contentType: upload.contentType } : {}),
      ...(upload.sse ? { sse: upload.sse } : {}),
    };
    this.writeObject(bucket, record);
    this.dropUpload(bucket, upload, used);
    return record;
  }

  abortUpload(bucket: string, upload: UploadRecord): void {
    this.dropUpload(bucket, upload, new Set());
  }

  private dropUpload(bucket: string, upload: UploadRecord, keep: ReadonlySet<string>): void {
    rmSync(this.dir(bucket, "uploads", `${upload.uploadId}.json`), { force: true });
    this.state(bucket).uploads.delete(upload.uploadId);
    this.removeBodies(
      bucket,
      Object.values(upload.parts)
        .map((p) => p.body)
        .filter((b) => !keep.has(b)),
    );
  }

  /** Truncates a stored object's body to `bytes` (the truncate fault on a completed upload). */
  truncateObject(bucket: string, key: string, bytes: number): ObjectRecord {
    const record = this.getObject(bucket, key);
    if (!record) throw noSuchKey(key);
    let left = Math.max(0, bytes);
    const bodies: string[] = [];
    for (const body of record.bodies) {
      const path = this.dir(bucket, "data", body);
      const size = statSync(path).size;
      if (left <= 0) {
        rmSync(path, { force: true });
        continue;
      }
      if (size > left) truncateSync(path, left);
      left -= Math.min(size, left);
      bodies.push(body);
    }
    const truncated: ObjectRecord = { ...record, size: Math.min(bytes, record.size), bodies };
    delete truncated.crc32;
    writeJsonAtomic(this.dir(bucket, "objects", recordName(key)), truncated);
    this.state(bucket).objects.set(key, truncated);
    return truncated;
  }

  /** Flips the bits of one byte of the stored body, keeping size, ETag and metadata: bit rot. */
  corruptObject(bucket: string, key: string, offset?: number): { offset: number } {
    const record = this.getObject(bucket, key);
    if (!record) throw noSuchKey(key);
    if (record.size === 0)
      throw new AwsError("InvalidArgument", `${key} is empty: nothing to corrupt`);
    let at = Math.min(Math.max(0, offset ?? Math.floor(record.size / 2)), record.size - 1);
    const chosen = at;
    for (const body of record.bodies) {
      const path = this.dir(bucket, "data", body);
      const size = statSync(path).size;
      if (at >= size) {
        at -= size;
        continue;
      }
      const fd = openSync(path, "r+");
      try {
        const byte = Buffer.alloc(1);
        readSync(fd, byte, 0, 1, at);
        byte[0] = (byte[0] ?? 0) ^ 0xff;
        writeSync(fd, byte, 0, 1, at);
      } finally {
        closeSync(fd);
      }
      break;
    }
    return { offset: chosen };
  }
}
