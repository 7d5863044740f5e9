// Protobuf's wire encoding, the parts the Snapshot stream's tests need.
// https://protobuf.dev/programming-guides/encoding/

export function varint(value: number | bigint): Buffer {
  const out: number[] = [];
  let v = BigInt(value);
  while (v >= 0x80n) {
    out.push(Number(v % 0x80n) | 0x80);
    v /= 0x80n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

export const bytesField = (field: number, data: Buffer): Buffer =>
  Buffer.concat([varint(field * 8 + 2), varint(data.length), data]);

export const varintField = (field: number, value: number | bigint): Buffer =>
  Buffer.concat([varint(field * 8), varint(value)]);

/** A SnapshotResponse as etcd sends it (remaining_bytes left out when zero, as proto3 does). */
export function snapshotResponse(remainingBytes: number, blob: Buffer): Buffer {
  return Buffer.concat([
    bytesField(1, Buffer.concat([varintField(3, 1041), varintField(4, 2)])),
    ...(remainingBytes ? [varintField(2, remainingBytes)] : []),
    bytesField(3, blob),
  ]);
}
