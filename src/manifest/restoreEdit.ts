// The manifest change a restore asks for (`quorate restore`): spec.restore
// with a new id and the snapshot's key, written into the cluster's own YAML
// document so that its comments and the other documents of the file stay.
import { isMap, isNode, isScalar, parseAllDocuments } from "yaml";
import type { RestoreSpec } from "./types.js";

/**
 * A restore id not used before: one more than the highest trailing number
 * of the ids given (r1 -> r2, 2026-12-04-quorum-loss-1 -> ...-2), else r1.
 * The result fits the schema's id pattern when the ids do.
 */
export function nextRestoreId(used: readonly string[]): string {
  let best: { stem: string; n: number } | undefined;
  for (const id of used) {
    const match = /^(.*?)(\d+)$/.exec(id);
    const candidate = match
      ? { stem: match[1] ?? "", n: Number(match[2]) }
      : { stem: `${id}-`, n: 1 };
    if (!best || candidate.n > best.n) best = candidate;
  }
  const next = best ? `${best.stem}${best.n + 1}` : "r1";
  return used.includes(next) ? nextRestoreId([...used, next]) : next;
}

/** The block to add under `spec:`, as the operator would type it. */
export function restoreBlock(restore: RestoreSpec): string {
  return `restore:\n  id: ${restore.id}\n  snapshot: ${restore.snapshot}\n`;
}

/**
 * `text` with spec.restore set in its `document`-th YAML document (0-based).
 * The edit is made in the text, so every other line (comments, alignment,
 * the file's other documents) stays byte for byte. Throws, with what to do,
 * when the document's spec is not a block mapping.
 */
export function manifestWithRestore(text: string, document: number, restore: RestoreSpec): string {
  const docs = parseAllDocuments(text);
  const doc = Array.isArray(docs) ? docs[document] : undefined;
  const spec = doc?.get("spec", true);
  if (!isMap(spec) || spec.flow || spec.items.length === 0) {
    throw new Error(
      `YAML document ${document + 1} has no block mapping under spec: add spec.restore by hand`,
    );
  }
  const first = spec.items[0]?.key;
  const indent = isNode(first) && first.range ? columnOf(text, first.range[0]) : 2;
  const lines = restoreBlock(restore)
    .trimEnd()
    .split("\n")
    .map((line) => `${" ".repeat(indent)}${line}`);
  const existing = spec.items.find((pair) => isScalar(pair.key) && pair.key.value === "restore");
  if (existing && isNode(existing.key) && isNode(existing.value) && existing.key.range) {
    const from = lineStart(text, existing.key.range[0]);
    const to = lineEnd(text, existing.value.range?.[1] ?? existing.key.range[1]);
    return `${text.slice(0, from)}${lines.join("\n")}\n${text.slice(to)}`;
  }
  const last = spec.items[spec.items.length - 1];
  const end = isNode(last?.value) ? last.value.range?.[1] : undefined;
  if (end === undefined)
    throw new Error("spec's last field has no value: add spec.restore by hand");
  const at = lineEnd(text, end);
  const before = text.slice(0, at);
  return `${before}${before.endsWith("\n") ? "" : "\n"}${lines.join("\n")}\n${text.slice(at)}`;
}

function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** The offset just after the newline ending the line `offset` is on (or the text's end). */
function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf("\n", Math.max(0, offset - 1));
  return newline === -1 ? text.length : newline + 1;
}
