// Reading query-protocol requests and writing XML responses, driven by the
// shapes in the AWS SDK's own service models (the schemas each @aws-sdk/client-*
// package exports). The SDK reads a response with exactly these shapes, so
// writing them the same way gives the element names, list wrappers (<member>
// for awsQuery, <item> for EC2) and lowerCamel EC2 names that AWS sends.
// awsQuery: https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
// ec2Query: https://smithy.io/2.0/aws/protocols/aws-ec2-query-protocol.html
import { NormalizedSchema } from "@smithy/core/schema";
import { validationError } from "./awsError.js";

type Schema = Parameters<typeof NormalizedSchema.of>[0];

export interface QueryDialect {
  /** ec2Query: flattened lists, capitalised keys, ec2QueryName traits. */
  ec2: boolean;
}

/** Form parameters (Action=...&Version=...&Tags.member.1.Key=...) as a map. */
export function parseForm(body: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body)) params.set(key, value);
  return params;
}

/** The operation's input object from form parameters, shaped as the SDK's input type. */
export function readQueryInput(
  schema: Schema,
  params: Map<string, string>,
  dialect: QueryDialect,
): Record<string, unknown> {
  const reader = new QueryReader(params, dialect);
  const value = reader.read(NormalizedSchema.of(schema), "");
  return (value as Record<string, unknown> | undefined) ?? {};
}

class QueryReader {
  private readonly prefixes = new Set<string>();

  constructor(
    private readonly params: Map<string, string>,
    private readonly dialect: QueryDialect,
  ) {
    for (const key of params.keys()) {
      const parts = key.split(".");
      for (let i = 1; i <= parts.length; i++) this.prefixes.add(parts.slice(0, i).join("."));
    }
  }

  read(ns: NormalizedSchema, key: string): unknown {
    if (ns.isStructSchema()) return this.readStruct(ns, key);
    if (ns.isListSchema()) return this.readList(ns, key);
    if (ns.isMapSchema()) return this.readMap(ns, key);
    const raw = this.params.get(key);
    if (raw === undefined) return undefined;
    if (ns.isBooleanSchema()) return raw === "true";
    if (ns.isNumericSchema()) {
      const n = Number(raw);
      if (!Number.isFinite(n))
        throw validationError(`Invalid value '${raw}' for ${key}: not a number`);
      return n;
    }
    if (ns.isTimestampSchema()) return new Date(raw);
    if (ns.isBlobSchema()) return Buffer.from(raw, "base64");
    return raw;
  }

  private child(key: string, name: string): string {
    return key === "" ? name : `${key}.${name}`;
  }

  private readStruct(ns: NormalizedSchema, key: string): Record<string, unknown> | undefined {
    if (key !== "" && !this.prefixes.has(key)) return undefined;
    const out: Record<string, unknown> = {};
    for (const [memberName, member] of ns.structIterator()) {
      const traits = member.getMergedTraits();
      let name = (traits.xmlName as string | undefined) ?? memberName;
      if (this.dialect.ec2) {
        name =
          (traits.ec2QueryName as string | undefined) ?? name[0]!.toUpperCase() + name.slice(1);
      }
      const value = this.read(member, this.child(key, name));
      if (value !== undefined) out[memberName] = value;
    }
    return out;
  }

  private readList(ns: NormalizedSchema, key: string): unknown[] | undefined {
    if (this.params.get(key) === "") return []; // how the SDK sends an empty list
    if (!this.prefixes.has(key)) return undefined;
    const member = ns.getValueSchema();
    const traits = member.getMergedTraits();
    const flat = this.dialect.ec2 || Boolean(ns.getMergedTraits().xmlFlattened);
    const base = flat ? key : this.child(key, (traits.xmlName as string | undefined) ?? "member");
    const out: unknown[] = [];
    for (let i = 1; this.prefixes.has(`${base}.${i}`); i++)
      out.push(this.read(member, `${base}.${i}`));
    return out;
  }

  private readMap(ns: NormalizedSchema, key: string): Record<string, unknown> | undefined {
    if (!this.prefixes.has(key)) return undefined;
    const flat = Boolean(ns.getMergedTraits().xmlFlattened);
    const base = flat ? key : this.child(key, "entry");
    const keyName = (ns.getKeySchema().getMergedTraits().xmlName as string | undefined) ?? "key";
    const valueName =
      (ns.getValueSchema().getMergedTraits().xmlName as string | undefined) ?? "value";
    const out: Record<string, unknown> = {};
    for (let i = 1; this.prefixes.has(`${base}.${i}`); i++) {
      const k = this.params.get(`${base}.${i}.${keyName}`);
      if (k !== undefined) out[k] = this.read(ns.getValueSchema(), `${base}.${i}.${valueName}`);
    }
    return out;
  }
}

export function escapeXml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;")
    .replaceAll("\r", "&#xD;");
}

/** The members of an output structure as XML elements (without an element for the structure). */
export function writeXmlMembers(schema: Schema, value: unknown): string {
  const ns = NormalizedSchema.of(schema);
  if (ns.isUnitSchema() || value === undefined || value === null) return "";
  return structMembers(ns, value as Record<string, unknown>);
}

function structMembers(ns: NormalizedSchema, value: Record<string, unknown>): string {
  let out = "";
  for (const [memberName, member] of ns.structIterator()) {
    const v = value[memberName];
    if (v === undefined || v === null) continue;
    const name = (member.getMemberTraits().xmlName as string | undefined) ?? memberName;
    out += writeElement(member, v, name);
  }
  return out;
}

function writeElement(ns: NormalizedSchema, value: unknown, name: string): string {
  if (ns.isListSchema()) {
    const items = value as unknown[];
    const member = ns.getValueSchema();
    if (ns.getMergedTraits().xmlFlattened) {
      return items.map((item) => writeElement(member, item, name)).join("");
    }
    const itemName = (member.getMergedTraits().xmlName as string | undefined) ?? "member";
    return `<${name}>${items.map((item) => writeElement(member, item, itemName)).join("")}</${name}>`;
  }
  if (ns.isMapSchema()) {
    const keyName = (ns.getKeySchema().getMergedTraits().xmlName as string | undefined) ?? "key";
    const valueSchema = ns.getValueSchema();
    const valueName = (valueSchema.getMergedTraits().xmlName as string | undefined) ?? "value";
    const entries = Object.entries(value as Record<string, unknown>)
      .map(
        ([k, v]) =>
          `<entry><${keyName}>${escapeXml(k)}</${keyName}>${writeElement(valueSchema, v, valueName)}</entry>`,
      )
      .join("");
    return `<${name}>${entries}</${name}>`;
  }
  if (ns.isStructSchema()) {
    return `<${name}>${structMembers(ns, value as Record<string, unknown>)}</${name}>`;
  }
  return `<${name}>${escapeXml(scalarText(ns, value))}</${name}>`;
}

function scalarText(ns: NormalizedSchema, value: unknown): string {
  if (ns.isTimestampSchema()) {
    const date = value instanceof Date ? value : new Date(value as string | number);
    return date.toISOString();
  }
  if (ns.isBlobSchema()) {
    return Buffer.from(value as Uint8Array | string).toString("base64");
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
