// decodeSnapshotResponse against messages encoded here by the protobuf rules:
// the fields etcd 3.4 sends, etcd 3.6's version field, unknown fields of every
// wire type, and messages cut or malformed.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeSnapshotResponse } from "../../src/etcd/snapshotMessage.js";
import { bytesField, varint, varintField } from "./protobufEncoding.js";

/** A ResponseHeader as etcd sends it: cluster_id, member_id (over 2^53: skipped, never read), revision, raft_term. */
const HEADER = bytesField(
  1,
  Buffer.concat([
    varintField(1, 14841639068965178418n),
    varintField(2, 10276657743932975437n),
    varintField(3, 1041),
    varintField(4, 2),
  ]),
);

describe("decodeSnapshotResponse", () => {
  it.each([
    [
      "header, remaining_bytes and blob",
      [HEADER, varintField(2, 65536), bytesField(3, Buffer.from("abc"))],
      65536,
      "abc",
    ],
    [
      "the last message (no remaining_bytes)",
      [HEADER, bytesField(3, Buffer.from("end"))],
      0,
      "end",
    ],
    [
      "etcd 3.6's version field",
      [
        HEADER,
        varintField(2, 7),
        bytesField(3, Buffer.from("x")),
        bytesField(4, Buffer.from("3.6.0")),
      ],
      7,
      "x",
    ],
    [
      "unknown fixed32 and fixed64 fields",
      [
        Buffer.from([0x2d, 1, 2, 3, 4]),
        Buffer.from([0x31, 1, 2, 3, 4, 5, 6, 7, 8]),
        varintField(2, 1),
        bytesField(3, Buffer.from("y")),
      ],
      1,
      "y",
    ],
    ["an empty message", [], 0, ""],
  ])("reads %s", (_, fields, remaining, blob) => {
    const decoded = decodeSnapshotResponse(Buffer.concat(fields));
    expect(decoded.remainingBytes).toBe(remaining);
    expect(decoded.blob.toString()).toBe(blob);
  });

  it("gives the blob as a view into the message, not a copy", () => {
    const message = Buffer.concat([varintField(2, 1), bytesField(3, Buffer.from("view"))]);
    const { blob } = decodeSnapshotResponse(message);
    expect(blob.buffer).toBe(message.buffer);
  });

  it.each([
    [
      "a blob longer than the message",
      Buffer.concat([varint(3 * 8 + 2), varint(100), Buffer.from("short")]),
      /field 3 runs past the message/,
    ],
    ["a varint cut off", Buffer.from([0x10, 0x80]), /a varint runs past the message/],
    [
      "a varint over 2^53",
      Buffer.concat([Buffer.from([0x10]), Buffer.alloc(9, 0xff), Buffer.from([0x01])]),
      /larger than 2\^53/,
    ],
    [
      "remaining_bytes as bytes",
      bytesField(2, Buffer.from("1")),
      /remaining_bytes is not a varint/,
    ],
    ["blob as a varint", varintField(3, 1), /blob is not bytes/],
    ["a group (wire type 3)", Buffer.from([0x2b]), /wire type 3/],
  ])("refuses %s", (_, message, error) => {
    expect(() => decodeSnapshotResponse(message)).toThrow(error);
  });

  it("reads back whatever fields it is given, in any order", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2 ** 40 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.tuple(fc.integer({ min: 4, max: 100 }), fc.uint8Array({ maxLength: 20 })), {
          maxLength: 4,
        }),
        fc.boolean(),
        (remaining, blob, unknown, headerLast) => {
          const fields = [
            varintField(2, remaining),
            bytesField(3, Buffer.from(blob)),
            ...unknown.map(([f, d]) => bytesField(f, Buffer.from(d))),
          ];
          const message = Buffer.concat(headerLast ? [...fields, HEADER] : [HEADER, ...fields]);
          const decoded = decodeSnapshotResponse(message);
          expect(decoded.remainingBytes).toBe(remaining);
          expect(Buffer.from(decoded.blob).equals(Buffer.from(blob))).toBe(true);
        },
      ),
    );
  });
});
