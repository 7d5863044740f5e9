// A multipart upload from a stream of chunks through a fixed pool of part
// buffers: each chunk is copied once into the part being filled, a full part
// is sent from its buffer, and the buffer is filled again once S3 has it.
// Memory is partsInFlight x partSize and nothing else. @aws-sdk/lib-storage
// joined each part out of its chunks (a new buffer per part, the chunks kept
// until it was cut) and took 90-100 MiB above that for a 1.26 GiB snapshot
// (bench/RESULTS.md).
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
import type {
  ChecksumAlgorithm,
  CompletedPart,
  CreateMultipartUploadCommandInput,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
} from "./sdk.js";

/** S3's limits: parts of 5 MiB or more (but the last), at most 10,000 of them. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PARTS = 10_000;

export interface PartPool {
  partSize: number;
  partsInFlight: number;
}

export type UploadTarget = Omit<CreateMultipartUploadCommandInput, "ChecksumAlgorithm">;

/**
 * Uploads every chunk of `body` to target.Key, in order, and completes the
 * upload once the body ended and every part is stored. When the body throws
 * or a part fails, the upload is aborted (S3 keeps no parts) and the error
 * rethrown: the object never exists in part.
 */
export async function uploadInParts(
  s3: S3Client,
  target: UploadTarget,
  body: AsyncIterable<Buffer>,
  pool: PartPool,
): Promise<void> {
  if (pool.partSize < MIN_PART_SIZE)
    throw new Error(`parts of ${pool.partSize} bytes are too small for S3`);
  // What lib-storage does: the SDK adds a CRC32 to every part unless told to
  // add them only where S3 requires one; the upload must then declare it.
  const checksum: ChecksumAlgorithm | undefined =
    (await s3.config.requestChecksumCalculation()) === "WHEN_SUPPORTED" ? "CRC32" : undefined;
  const created = await s3.send(
    new CreateMultipartUploadCommand({
      ...target,
      ...(checksum ? { ChecksumAlgorithm: checksum } : {}),
    }),
  );
  const UploadId = created.UploadId;
  if (!UploadId) throw new Error("S3 answered CreateMultipartUpload without an UploadId");
  const ids = { Bucket: target.Bucket, Key: target.Key, UploadId };

  const free: Buffer[] = [];
  let allocated = 0;
  const inFlight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let failure: { error: unknown } | undefined;

  const send = (buffer: Buffer, length: number, PartNumber: number) => {
    const sent = s3
      .send(
        new UploadPartCommand({
          ...ids,
          PartNumber,
          Body: buffer.subarray(0, length),
          ContentLength: length,
        }),
      )
      .then((out) => {
        if (!out.ETag) throw new Error(`S3 stored part ${PartNumber} without an ETag`);
        parts.push({
          PartNumber,
          ETag: out.ETag,
          ...(out.ChecksumCRC32 ? { ChecksumCRC32: out.ChecksumCRC32 } : {}),
        });
        free.push(buffer);
      })
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  };
  /** A buffer to fill: a free one, a new one while the pool is not full, else the first one S3 gives back. */
  const nextBuffer = async (): Promise<Buffer> => {
    while (free.length === 0 && allocated >= pool.partsInFlight && !failure)
      await Promise.race(inFlight);
    if (failure) throw failure.error;
    const reused = free.pop();
    if (reused) return reused;
    allocated++;
    // Outside Node's shared pool: these live for the whole upload.
    return Buffer.allocUnsafeSlow(pool.partSize);
  };

  try {
    let buffer = await nextBuffer();
    let filled = 0;
    let partNumber = 0;
    for await (const chunk of body) {
      if (failure) throw failure.error;
      for (let at = 0; at < chunk.length; ) {
        const copied = chunk.copy(buffer, filled, at);
        filled += copied;
        at += copied;
        if (filled < pool.partSize) continue;
        if (++partNumber > MAX_PARTS)
          throw new Error(`the object needs more than ${MAX_PARTS} parts`);
        send(buffer, filled, partNumber);
        buffer = await nextBuffer();
        filled = 0;
      }
    }
    // The last part may be short, or empty when nothing came at all: S3 needs one part.
    if (filled > 0 || partNumber === 0) send(buffer, filled, ++partNumber);
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await s3.send(
      new CompleteMultipartUploadCommand({ ...ids, MultipartUpload: { Parts: parts } }),
    );
  } catch (error) {
    await Promise.allSettled(inFlight);
    await s3.send(new AbortMultipartUploadCommand(ids)).catch(() => undefined);
    throw error;
  }
}
