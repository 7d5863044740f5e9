// Byte-stable JSON: the template body and its sha256 must not depend on the
// order in which the renderer happened to build objects.
import { createHash } from "node:crypto";

const INDENT = "  ";

/**
 * JSON with object keys sorted recursively (by UTF-16 code units, integer-like
 * keys included, which JSON.stringify would put first), 2-space indent and a
 * trailing newline. Properties whose value is undefined are left out, as
 * JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  return `${write(value, "")}\n`;
}

function write(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const inner = indent + INDENT;
    const items = value.map((item) => inner + (item === undefined ? "null" : write(item, inner)));
    return `[\n${items.join(",\n")}\n${indent}]`;
  }
  if (value !== null && typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    if (keys.length === 0) return "{}";
    const inner = indent + INDENT;
    const entries = keys.map(
      (key) => `${inner}${JSON.stringify(key)}: ${write(record[key], inner)}`,
    );
    return `{\n${entries.join(",\n")}\n${indent}}`;
  }
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`canonicalJson cannot encode ${typeof value}`);
  return text;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
