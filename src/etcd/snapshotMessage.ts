// One message of etcd's Maintenance.Snapshot stream, decoded from protobuf by
// hand: SnapshotResponse is three fields, {header = 1, remaining_bytes = 2,
// blob = 3} (etcd 3.6 adds version = 4), so a generated codec or a .proto
// loader would cost more than the decoding. Unknown fields are skipped by wire
// type, as protobuf requires. Pure.
// https://github.com/etcd-io/etcd/blob/v3.4.23/etcdserver/etcdserverpb/rpc.proto
// https://protobuf.dev/programming-guides/encoding/

export interface SnapshotMessage {
  /** Bytes still to come after this message; proto3 leaves it out (zero) on the last. */
  remainingBytes: number;
  /** A view into the message, not a copy. */
  blob: Buffer;
}

export class SnapshotMessageError extends Error {}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** Decodes one SnapshotResponse; throws SnapshotMessageError on anything that is not one. */
export function decodeSnapshotResponse(message: Buffer): SnapshotMessage {
  let at = 0;
  let remainingBytes = 0;
  let blob: Buffer = Buffer.alloc(0);
  const varint = (): number => {
    // Up to 2^53: a snapshot's size in bytes, never near it.
    let value = 0;
    for (let shift = 0; shift < 56; shift += 7) {
      const byte = message[at++];
      if (byte === undefined) throw new SnapshotMessageError("a varint runs past the message");
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) break;
        return value;
      }
    }
    throw new SnapshotMessageError("a varint is larger than 2^53");
  };
  while (at < message.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 2 && wireType !== VARINT) {
      throw new SnapshotMessageError("remaining_bytes is not a varint");
    }
    if (field === 3 && wireType !== LENGTH_DELIMITED) {
      throw new SnapshotMessageError("blob is not bytes");
    }
    if (wireType === VARINT) {
      const value = varint();
      if (field === 2) remainingBytes = value;
    } else if (wireType === LENGTH_DELIMITED) {
      const length = varint();
      if (at + length > message.length) {
        throw new SnapshotMessageError(`field ${field} runs past the message`);
      }
      if (field === 3) blob = message.subarray(at, at + length);
      at += length;
    } else if (wireType === FIXED64 || wireType === FIXED32) {
      at += wireType === FIXED64 ? 8 : 4;
      if (at > message.length)
        throw new SnapshotMessageError(`field ${field} runs past the message`);
    } else {
      throw new SnapshotMessageError(`field ${field} has wire type ${wireType}`);
    }
  }
  return { remainingBytes, blob };
}
