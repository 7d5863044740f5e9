// JSON shapes of the etcd v3 gateway, to and from the domain types. Pure.
// proto3 JSON: uint64/int64 are decimal strings, bytes are base64, and fields
// at their default value are left out (isLearner false, leader 0, empty lists).

import type {
  Alarm,
  AlarmType,
  Health,
  KeyValue,
  Member,
  MemberStatus,
  RangeResult,
  ResponseHeader,
} from "./types.js";

/** A gateway answer that does not have the expected shape. */
export class WireFormatError extends Error {
  override name = "WireFormatError";
}

const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** A uint64 field: absent means 0; a decimal string (or a small JSON number) otherwise. */
export function parseU64(value: unknown, field: string): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "string" && DECIMAL.test(value)) {
    const n = BigInt(value);
    if (n <= U64_MAX) return n;
  }
  throw new WireFormatError(`${field} is not a uint64: ${JSON.stringify(value)}`);
}

/** An int64 field (revisions and counts are signed in the proto, never negative in practice). */
function parseI64(value: unknown, field: string): bigint {
  if (typeof value === "string" && /^-[1-9][0-9]*$/.test(value)) return BigInt(value);
  return parseU64(value, field);
}

/** The decimal string etcd expects for a uint64 (ids go back exactly as they came). */
export function formatU64(value: bigint): string {
  if (value < 0n || value > U64_MAX) throw new RangeError(`not a uint64: ${value}`);
  return value.toString(10);
}

/**
 * A JSON.stringify replacer for probes and gate results (which hold bigints):
 * ids and indexes become decimal strings, as etcd writes them.
 */
export function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString(10) : value;
}

/** Member ids as etcdctl prints them (16 hex digits), for messages. */
export function hexId(id: bigint): string {
  return id.toString(16).padStart(16, "0");
}

function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  throw new WireFormatError(`${field} is not an object`);
}

function optionalRecord(value: unknown, field: string): Record<string, unknown> {
  return value === undefined || value === null ? {} : record(value, field);
}

function stringField(value: unknown, field: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  throw new WireFormatError(`${field} is not a string`);
}

function boolField(value: unknown, field: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === "boolean") return value;
  throw new WireFormatError(`${field} is not a boolean`);
}

function list(value: unknown, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  throw new WireFormatError(`${field} is not a list`);
}

function stringList(value: unknown, field: string): string[] {
  return list(value, field).map((v, i) => stringField(v, `${field}[${i}]`));
}

export function parseHeader(value: unknown): ResponseHeader {
  const h = optionalRecord(value, "header");
  return {
    clusterId: parseU64(h.cluster_id, "header.cluster_id"),
    memberId: parseU64(h.member_id, "header.member_id"),
    revision: parseI64(h.revision, "header.revision"),
    raftTerm: parseU64(h.raft_term, "header.raft_term"),
  };
}

export function parseMember(value: unknown, field = "member"): Member {
  const m = record(value, field);
  return {
    id: parseU64(m.ID, `${field}.ID`),
    name: stringField(m.name, `${field}.name`),
    peerURLs: stringList(m.peerURLs, `${field}.peerURLs`),
    clientURLs: stringList(m.clientURLs, `${field}.clientURLs`),
    isLearner: boolField(m.isLearner, `${field}.isLearner`),
  };
}

/** The `members` of a member list, add, remove or promote answer. */
export function parseMembers(body: unknown): Member[] {
  const b = record(body, "answer");
  return list(b.members, "members").map((m, i) => parseMember(m, `members[${i}]`));
}

export function parseStatus(body: unknown): MemberStatus {
  const b = record(body, "answer");
  return {
    header: parseHeader(b.header),
    version: stringField(b.version, "version"),
    dbSize: parseI64(b.dbSize, "dbSize"),
    dbSizeInUse: parseI64(b.dbSizeInUse, "dbSizeInUse"),
    leader: parseU64(b.leader, "leader"),
    raftIndex: parseU64(b.raftIndex, "raftIndex"),
    raftTerm: parseU64(b.raftTerm, "raftTerm"),
    raftAppliedIndex: parseU64(b.raftAppliedIndex, "raftAppliedIndex"),
    errors: stringList(b.errors, "errors"),
    isLearner: boolField(b.isLearner, "isLearner"),
  };
}

export function parseHealth(body: unknown): Health {
  const b = record(body, "answer");
  // 3.4 sends the string "true"/"false"; accept a boolean too.
  const raw = b.health;
  if (raw !== "true" && raw !== "false" && typeof raw !== "boolean") {
    throw new WireFormatError(`health is neither "true" nor "false": ${JSON.stringify(raw)}`);
  }
  const healthy = raw === true || raw === "true";
  const reason = typeof b.reason === "string" && b.reason !== "" ? b.reason : undefined;
  return reason === undefined ? { healthy } : { healthy, reason };
}

const ALARM_TYPES: ReadonlySet<string> = new Set<AlarmType>(["NOSPACE", "CORRUPT"]);

/** Active alarms; entries at the default NONE (field absent) are not alarms. */
export function parseAlarms(body: unknown): Alarm[] {
  const b = record(body, "answer");
  const alarms: Alarm[] = [];
  list(b.alarms, "alarms").forEach((entry, i) => {
    const a = record(entry, `alarms[${i}]`);
    const type = a.alarm;
    if (type === undefined || type === "NONE") return;
    if (typeof type !== "string" || !ALARM_TYPES.has(type)) {
      throw new WireFormatError(`alarms[${i}].alarm is not a known alarm: ${JSON.stringify(type)}`);
    }
    alarms.push({
      memberId: parseU64(a.memberID, `alarms[${i}].memberID`),
      alarm: type as AlarmType,
    });
  });
  return alarms;
}

export function encodeBase64(text: string): string {
  return Buffer.from(text, "utf8").toString("base64");
}

export function decodeBase64(value: unknown, field: string): string {
  return Buffer.from(stringField(value, field), "base64").toString("utf8");
}

export function parseRange(body: unknown): RangeResult {
  const b = record(body, "answer");
  const kvs: KeyValue[] = list(b.kvs, "kvs").map((entry, i) => {
    const kv = record(entry, `kvs[${i}]`);
    return {
      key: decodeBase64(kv.key, `kvs[${i}].key`),
      value: decodeBase64(kv.value, `kvs[${i}].value`),
      createRevision: parseI64(kv.create_revision, `kvs[${i}].create_revision`),
      modRevision: parseI64(kv.mod_revision, `kvs[${i}].mod_revision`),
      version: parseI64(kv.version, `kvs[${i}].version`),
    };
  });
  return { header: parseHeader(b.header), kvs, count: parseI64(b.count, "count") };
}

/** GET /version: {"etcdserver":"3.4.23","etcdcluster":"3.4.0"}. */
export function parseVersion(body: unknown): { server: string; cluster: string } {
  const b = record(body, "answer");
  return {
    server: stringField(b.etcdserver, "etcdserver"),
    cluster: stringField(b.etcdcluster, "etcdcluster"),
  };
}
