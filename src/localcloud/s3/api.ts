// The local cloud's S3 over its REST protocol, path-style
// (http://127.0.0.1:4566/<bucket>/<key>), for the real @aws-sdk/client-s3
// with forcePathStyle. Bodies stream between the socket and the object store;
// none is held in memory. Faults (faults.ts) fail or truncate writes.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { Faults } from "../faults.js";
import type { S3KmsUse, S3Request } from "../iam/requestAuthorization.js";
import { ACCOUNT_ID } from "../ids.js";
import { AwsError } from "../protocol/awsError.js";
import { AwsChunkedDecoder } from "./awsChunked.js";
import {
  noSuchKey,
  type ObjectAttributes,
  type ObjectRecord,
  type ObjectStore,
  type ServerSideEncryption,
  type StagedBody,
} from "./objectStore.js";
import { errorXml, outputXml, readCompleteParts } from "./restXml.js";

export interface S3Context {
  store: ObjectStore;
  faults: Faults;
  log(event: Record<string, unknown> & { event: string }): void;
}

export interface S3Call {
  region: string;
  requestId: string;
  /** Counts the call as service:Action, once the action is known. */
  count(action: string): void;
  /** With --iam-policy: the error a denied operation gets, or undefined to serve it. */
  authorize?(request: S3Request): Promise<AwsError | undefined>;
}

/** S3 caps user metadata (x-amz-meta-* names and values) at 2 KB. */
const MAX_METADATA_BYTES = 2048;
const MAX_KEYS = 1000;
const MAX_PART_NUMBER = 10_000;
const MAX_REQUEST_XML = 1024 * 1024;

interface Target {
  bucket?: string;
  key?: string;
  query: URLSearchParams;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  xml?: string;
  body?: { stream: Readable; length: number };
}

function target(url: URL): Target {
  const [, bucket = "", ...rest] = url.pathname.split("/");
  const key = rest.join("/");
  return {
    ...(bucket ? { bucket: decodeURIComponent(bucket) } : {}),
    ...(key ? { key: decodeURIComponent(key) } : {}),
    query: url.searchParams,
  };
}

/** The S3 operation a request is, from its method, path and query (as S3 routes them). */
export function operationOf(method: string, url: URL): string {
  const { bucket, key, query } = target(url);
  if (!bucket) return method === "GET" ? "ListBuckets" : "Unknown";
  if (!key) {
    if (method === "PUT") return "CreateBucket";
    if (method === "HEAD") return "HeadBucket";
    if (method === "DELETE") return "DeleteBucket";
    if (method === "GET" && query.get("list-type") === "2") return "ListObjectsV2";
    if (method === "GET" && query.has("uploads")) return "ListMultipartUploads";
    if (method === "GET" && query.has("location")) return "GetBucketLocation";
    return "Unknown";
  }
  if (method === "PUT")
    return query.has("uploadId") && query.has("partNumber") ? "UploadPart" : "PutObject";
  if (method === "GET") return query.has("uploadId") ? "ListParts" : "GetObject";
  if (method === "HEAD") return "HeadObject";
  if (method === "DELETE") return query.has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
  if (method === "POST" && query.has("uploads")) return "CreateMultipartUpload";
  if (method === "POST" && query.has("uploadId")) return "CompleteMultipartUpload";
  return "Unknown";
}

export async function handleS3(
  ctx: S3Context,
  req: IncomingMessage,
  res: ServerResponse,
  call: S3Call,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://local");
  const method = req.method ?? "GET";
  const operation = operationOf(method, url);
  call.count(operation);
  const resource = url.pathname;
  let reply: Reply;
  try {
    if (ctx.faults.takeThrottle("s3", operation)) {
      throw new AwsError("SlowDown", "Please reduce your request rate.", 503, "Receiver");
    }
    const where = target(url);
    if (call.authorize) {
      const kms = kmsUseOf(ctx, operation, req, where, call.region);
      const denied = await call.authorize({ operation, ...where, ...(kms ? { kms } : {}) });
      if (denied) throw denied;
    }
    reply = await route(ctx, operation, method, req, where, call);
  } catch (error) {
    const aws =
      error instanceof AwsError
        ? error
        : new AwsError(
            "InternalError",
            `The local cloud failed to serve the request: ${(error as Error)?.message ?? String(error)}`,
            500,
            "Receiver",
          );
    if (!(error instanceof AwsError)) {
      ctx.log({ event: "s3-error", operation, error: (error as Error)?.stack ?? String(error) });
    }
    // A body the client is still sending is read to its end, so that it sees the error.
    if (!req.readableEnded) req.resume();
    reply = {
      status: aws.status,
      ...(method === "HEAD" ? {} : { xml: errorXml(aws, resource, call.requestId) }),
    };
  }
  send(res, reply, call.requestId);
}

function send(res: ServerResponse, reply: Reply, requestId: string): void {
  const headers: Record<string, string> = {
    "x-amz-request-id": requestId,
    "x-amz-id-2": requestId,
    ...reply.headers,
  };
  if (reply.body) {
    res.writeHead(reply.status, { ...headers, "content-length": String(reply.body.length) });
    reply.body.stream.on("error", () => res.destroy());
    reply.body.stream.pipe(res);
    return;
  }
  const text = reply.xml ?? "";
  res.writeHead(reply.status, {
    // A HEAD reply's content-length is the object's, from its headers.
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
    ...(text ? { "content-type": "application/xml" } : {}),
  });
  res.end(text);
}

async function route(
  ctx: S3Context,
  operation: string,
  method: string,
  req: IncomingMessage,
  t: Target,
  call: S3Call,
): Promise<Reply> {
  const { store } = ctx;
  const bucket = t.bucket ?? "";
  const key = t.key ?? "";
  switch (operation) {
    case "ListBuckets":
      return {
        status: 200,
        xml: outputXml("ListBuckets", {
          Buckets: store.listBuckets().map((b) => ({
            Name: b.name,
            CreationDate: new Date(b.createdAt),
            BucketRegion: b.region,
          })),
          Owner: { ID: ACCOUNT_ID, DisplayName: "local" },
        }),
      };
    case "CreateBucket":
      await drain(req);
      store.createBucket(bucket, call.region);
      return { status: 200, headers: { location: `/${bucket}` } };
    case "HeadBucket":
      if (!bucketExists(store, bucket)) return { status: 404 };
      return { status: 200, headers: { "x-amz-bucket-region": store.bucket(bucket).region } };
    case "GetBucketLocation": {
      const region = store.bucket(bucket).region;
      // us-east-1 is the empty constraint, for historical reasons.
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region === "us-east-1" ? "" : region}</LocationConstraint>`;
      return { status: 200, xml };
    }
    case "DeleteBucket":
      store.deleteBucket(bucket);
      return { status: 204 };
    case "ListObjectsV2":
      return listObjects(store, bucket, t.query);
    case "ListMultipartUploads":
      return {
        status: 200,
        xml: outputXml("ListMultipartUploads", {
          Bucket: bucket,
          IsTruncated: false,
          Uploads: store
            .listUploads(bucket)
            .map((u) => ({ Key: u.key, UploadId: u.uploadId, Initiated: new Date(u.initiated) })),
        }),
      };
    case "PutObject":
      if (req.headers["x-amz-copy-source"]) throw notImplemented("CopyObject");
      return putObject(ctx, req, bucket, key, call.region);
    case "GetObject":
    case "HeadObject": {
      if (req.headers.range) throw notImplemented("a ranged GetObject (Range header)");
      const record = store.getObject(bucket, key);
      if (!record) {
        if (method === "HEAD") return { status: 404 };
        throw noSuchKey(key);
      }
      const headers = objectHeaders(record);
      if (method === "HEAD") {
        return { status: 200, headers: { ...headers, "content-length": String(record.size) } };
      }
      return {
        status: 200,
        headers,
        body: { stream: store.readBody(bucket, record), length: record.size },
      };
    }
    case "DeleteObject":
      store.getObject(bucket, key); // NoSuchBucket; a missing key is not an error
      store.deleteObject(bucket, key);
      return { status: 204 };
    case "CreateMultipartUpload": {
      await drain(req);
      failIfFaulted(ctx, bucket, key);
      const attributes = objectAttributes(req, call.region);
      const algorithm = header(req, "x-amz-checksum-algorithm")?.toUpperCase();
      const upload = store.createUpload(bucket, key, attributes, algorithm);
      return {
        status: 200,
        headers: {
          ...sseHeaders(attributes.sse),
          ...(algorithm ? { "x-amz-checksum-algorithm": algorithm } : {}),
        },
        xml: outputXml("CreateMultipartUpload", {
          Bucket: bucket,
          Key: key,
          UploadId: upload.uploadId,
        }),
      };
    }
    case "UploadPart": {
      const upload = store.upload(bucket, t.query.get("uploadId") ?? "", key);
      const partNumber = Number(t.query.get("partNumber"));
      if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
        throw new AwsError(
          "InvalidArgument",
          `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
        );
      }
      failIfFaulted(ctx, bucket, key);
      const staged = await stageVerified(store, req, bucket);
      const part = store.putPart(bucket, upload, partNumber, staged);
      return {
        status: 200,
        headers: {
          etag: part.etag,
          ...sseHeaders(upload.sse),
          ...(upload.checksumAlgorithm === "CRC32" || req.headers["x-amz-checksum-crc32"]
            ? { "x-amz-checksum-crc32": part.crc32 }
            : {}),
        },
      };
    }
    case "CompleteMultipartUpload": {
      const upload = store.upload(bucket, t.query.get("uploadId") ?? "", key);
      const xml = await readSmallBody(req);
      failIfFaulted(ctx, bucket, key);
      let record = store.completeUpload(bucket, upload, readCompleteParts(xml));
      const truncate = ctx.faults.takeS3Fault("truncate", bucket, key);
      if (truncate) {
        record = store.truncateObject(bucket, key, truncate.bytes ?? Math.floor(record.size / 2));
        ctx.log({ event: "s3-fault-truncate", bucket, key, size: record.size });
      }
      return {
        status: 200,
        headers: sseHeaders(record.sse),
        xml: outputXml("CompleteMultipartUpload", {
          Location: `/${bucket}/${key}`,
          Bucket: bucket,
          Key: key,
          ETag: record.etag,
        }),
      };
    }
    case "AbortMultipartUpload":
      store.abortUpload(bucket, store.upload(bucket, t.query.get("uploadId") ?? "", key));
      return { status: 204 };
    case "ListParts":
      throw notImplemented("ListParts");
    default:
      throw notImplemented(`${method} ${t.bucket ? `/${t.bucket}` : "/"}${t.key ? "/..." : ""}`);
  }
}

function notImplemented(what: string): AwsError {
  return new AwsError(
    "NotImplemented",
    `The quorate local cloud does not implement ${what}`,
    501,
    "Receiver",
  );
}

function bucketExists(store: ObjectStore, bucket: string): boolean {
  try {
    store.bucket(bucket);
    return true;
  } catch {
    return false;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

function failIfFaulted(ctx: S3Context, bucket: string, key: string): void {
  if (ctx.faults.takeS3Fault("fail", bucket, key)) {
    ctx.log({ event: "s3-fault-fail", bucket, key });
    throw new AwsError(
      "InternalError",
      "We encountered an internal error. Please try again. (local cloud fault injection)",
      500,
      "Receiver",
    );
  }
}

function drain(req: IncomingMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    req.resume();
    req.on("end", resolve);
    req.on("error", reject);
  });
}

async function readSmallBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_XML) {
      throw new AwsError("MaxMessageLengthExceeded", "Your request was too big.");
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function objectAttributes(req: IncomingMessage, region: string): ObjectAttributes {
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith("x-amz-meta-") || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(",") : value;
    const short = name.slice("x-amz-meta-".length);
    metadata[short] = text;
    bytes += Buffer.byteLength(short) + Buffer.byteLength(text);
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw new AwsError(
      "MetadataTooLarge",
      `Your metadata headers exceed the maximum allowed metadata size (${bytes} of ${MAX_METADATA_BYTES} bytes)`,
    );
  }
  const contentType = header(req, "content-type");
  const sse = serverSideEncryption(req, region);
  return {
    metadata,
    ...(contentType ? { contentType } : {}),
    ...(sse ? { sse } : {}),
  };
}

/**
 * The KMS key S3 encrypts or decrypts with for this request, when the object is
 * (or is to be) SSE-KMS. A request the route will refuse anyway (no such bucket,
 * upload or object, a bad header) uses none.
 */
function kmsUseOf(
  ctx: S3Context,
  operation: string,
  req: IncomingMessage,
  where: Target,
  region: string,
): S3KmsUse | undefined {
  const keyOf = (sse: ServerSideEncryption | undefined) =>
    sse?.algorithm === "aws:kms" ? sse.kmsKeyId : undefined;
  const use = (action: S3KmsUse["action"], keyId: string | undefined) =>
    keyId ? { action, keyId } : undefined;
  const { bucket, key, query } = where;
  if (!bucket || !key) return undefined;
  try {
    switch (operation) {
      case "PutObject":
      case "CreateMultipartUpload":
        return use("kms:GenerateDataKey", keyOf(serverSideEncryption(req, region)));
      case "GetObject":
        return use("kms:Decrypt", keyOf(ctx.store.getObject(bucket, key)?.sse));
      case "UploadPart":
      case "CompleteMultipartUpload":
        return use(
          "kms:Decrypt",
          keyOf(ctx.store.upload(bucket, query.get("uploadId") ?? "", key).sse),
        );
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/** SSE-S3 (AES256) or SSE-KMS; KMS without a key id means the account's aws/s3 key, as on AWS. */
function serverSideEncryption(
  req: IncomingMessage,
  region: string,
): ServerSideEncryption | undefined {
  const algorithm = header(req, "x-amz-server-side-encryption");
  if (algorithm === undefined) return undefined;
  if (algorithm === "AES256") return { algorithm };
  if (algorithm === "aws:kms" || algorithm === "aws:kms:dsse") {
    const kmsKeyId =
      header(req, "x-amz-server-side-encryption-aws-kms-key-id") ??
      `arn:aws:kms:${region}:${ACCOUNT_ID}:alias/aws/s3`;
    return { algorithm: "aws:kms", kmsKeyId };
  }
  throw new AwsError(
    "InvalidArgument",
    `The encryption method specified is not supported: ${algorithm} (use AES256 or aws:kms)`,
  );
}

function sseHeaders(sse: ServerSideEncryption | undefined): Record<string, string> {
  if (!sse) return {};
  if (sse.algorithm === "AES256") return { "x-amz-server-side-encryption": "AES256" };
  return {
    "x-amz-server-side-encryption": "aws:kms",
    "x-amz-server-side-encryption-aws-kms-key-id": sse.kmsKeyId,
  };
}

function objectHeaders(record: ObjectRecord): Record<string, string> {
  const headers: Record<string, string> = {
    etag: record.etag,
    "last-modified": new Date(record.lastModified).toUTCString(),
    "content-type": record.contentType ?? "binary/octet-stream",
    "accept-ranges": "bytes",
    ...sseHeaders(record.sse),
  };
  if (record.bodies.length > 1) headers["x-amz-mp-parts-count"] = String(record.bodies.length);
  for (const [name, value] of Object.entries(record.metadata))
    headers[`x-amz-meta-${name}`] = value;
  return headers;
}

/**
 * Streams the request body to the store and checks it against what the
 * client declared: its length, Content-MD5, x-amz-checksum-crc32 (a header or
 * an aws-chunked trailer) and a hex x-amz-content-sha256.
 */
async function stageVerified(
  store: ObjectStore,
  req: IncomingMessage,
  bucket: string,
): Promise<StagedBody> {
  const contentSha = header(req, "x-amz-content-sha256");
  const chunked =
    (header(req, "content-encoding") ?? "").includes("aws-chunked") ||
    (contentSha ?? "").startsWith("STREAMING-");
  const decoder = chunked ? new AwsChunkedDecoder() : undefined;
  const source: Readable = decoder ? req.pipe(decoder) : req;
  if (decoder) req.on("error", (error) => decoder.destroy(error));
  // S3 checks a body's sha256 only when the signature covers it (not UNSIGNED-PAYLOAD).
  const signedSha = contentSha && /^[0-9a-f]{64}$/.test(contentSha) ? contentSha : undefined;
  const staged = await store.stage(bucket, source, { sha256: signedSha !== undefined });
  const fail = (code: string, message: string): never => {
    store.discard(bucket, staged);
    throw new AwsError(code, message);
  };
  const declared = chunked
    ? header(req, "x-amz-decoded-content-length")
    : header(req, "content-length");
  if (declared !== undefined && Number(declared) !== staged.size) {
    fail(
      "IncompleteBody",
      `You did not provide the number of bytes specified by the Content-Length HTTP header (${staged.size} of ${declared})`,
    );
  }
  const md5 = header(req, "content-md5");
  if (md5 && Buffer.from(md5, "base64").toString("hex") !== staged.md5Hex) {
    fail("BadDigest", "The Content-MD5 you specified did not match what we received.");
  }
  const crc = header(req, "x-amz-checksum-crc32") ?? decoder?.trailers["x-amz-checksum-crc32"];
  if (crc && crc !== staged.crc32Base64) {
    fail("BadDigest", "The CRC32 you specified did not match the calculated checksum.");
  }
  if (signedSha && signedSha !== staged.sha256Hex) {
    fail(
      "XAmzContentSHA256Mismatch",
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  return staged;
}

async function putObject(
  ctx: S3Context,
  req: IncomingMessage,
  bucket: string,
  key: string,
  region: string,
): Promise<Reply> {
  const { store } = ctx;
  store.bucket(bucket);
  const attributes = objectAttributes(req, region);
  failIfFaulted(ctx, bucket, key);
  let staged = await stageVerified(store, req, bucket);
  const truncate = ctx.faults.takeS3Fault("truncate", bucket, key);
  if (truncate) {
    staged = store.truncateStaged(bucket, staged, truncate.bytes ?? Math.floor(staged.size / 2));
    ctx.log({ event: "s3-fault-truncate", bucket, key, size: staged.size });
  }
  const crc =
    header(req, "x-amz-checksum-crc32") ??
    (req.headers["x-amz-trailer"] ? staged.crc32Base64 : undefined);
  const record = store.putObject(bucket, key, staged, attributes);
  return {
    status: 200,
    headers: {
      etag: record.etag,
      ...sseHeaders(record.sse),
      ...(crc ? { "x-amz-checksum-crc32": crc } : {}),
    },
  };
}

function listObjects(store: ObjectStore, bucket: string, query: URLSearchParams): Reply {
  const prefix = query.get("prefix") ?? "";
  const delimiter = query.get("delimiter") ?? "";
  const maxKeys = Math.min(MAX_KEYS, Math.max(0, Number(query.get("max-keys") ?? MAX_KEYS) || 0));
  const token = query.get("continuation-token") ?? undefined;
  const startAfter = query.get("start-after") ?? "";
  let after = startAfter;
  if (token !== undefined) {
    after = Buffer.from(token, "base64url").toString("utf8");
    if (!after)
      throw new AwsError("InvalidArgument", "The continuation token provided is incorrect");
  }
  const afterBytes = Buffer.from(after);
  // Objects and common prefixes, in key order, after the token's key.
  const entries: { key: string; object?: ObjectRecord }[] = [];
  const seenPrefixes = new Set<string>();
  for (const object of store.listObjects(bucket, prefix)) {
    const rest = object.key.slice(prefix.length);
    const cut = delimiter ? rest.indexOf(delimiter) : -1;
    const entryKey = cut >= 0 ? prefix + rest.slice(0, cut + delimiter.length) : object.key;
    if (after && Buffer.compare(Buffer.from(entryKey), afterBytes) <= 0) continue;
    if (cut >= 0) {
      if (seenPrefixes.has(entryKey)) continue;
      seenPrefixes.add(entryKey);
      entries.push({ key: entryKey });
    } else entries.push({ key: entryKey, object });
  }
  const page = entries.slice(0, maxKeys);
  const truncated = entries.length > page.length;
  const last = page.at(-1);
  return {
    status: 200,
    xml: outputXml("ListObjectsV2", {
      Name: bucket,
      Prefix: prefix,
      ...(delimiter ? { Delimiter: delimiter } : {}),
      MaxKeys: maxKeys,
      KeyCount: page.length,
      IsTruncated: truncated,
      ...(token !== undefined ? { ContinuationToken: token } : {}),
      ...(startAfter ? { StartAfter: startAfter } : {}),
      ...(truncated && last
        ? { NextContinuationToken: Buffer.from(last.key).toString("base64url") }
        : {}),
      Contents: page
        .filter((e) => e.object)
        .map((e) => ({
          Key: e.key,
          LastModified: new Date(e.object!.lastModified),
          ETag: e.object!.etag,
          Size: e.object!.size,
          StorageClass: "STANDARD",
        })),
      CommonPrefixes: page.filter((e) => !e.object).map((e) => ({ Prefix: e.key })),
    }),
  };
}
