// A problem in a manifest, located in its source and explained for the person
// who has to fix it: FILE:LINE:COL: field.path: what is wrong (got X): why / what to do.

export interface ManifestError {
  file: string;
  line: number;
  column: number;
  /** Dotted field path such as spec.network.subnetIds[0]; empty for a whole document. */
  path: string;
  /** What is wrong. */
  problem: string;
  /** The offending value, shown as (got X). */
  got?: string;
  /** Why it matters or what to do. */
  hint: string;
  /** Stable rule id, for scripts (--format json) and tests. */
  rule: string;
  /** metadata.name of the document, when it has one. */
  cluster?: string;
}

export function formatManifestError(error: ManifestError): string {
  const where = `${escapeControl(error.file)}:${error.line}:${error.column}`;
  const field = error.path ? ` ${escapeControl(error.path)}:` : "";
  const got = error.got === undefined ? "" : ` (got ${escapeControl(error.got)})`;
  return `${where}:${field} ${escapeControl(error.problem)}${got}: ${error.hint}`;
}

// C0 and C1 controls, DEL, and the line and paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * A file name or value with its control characters written as \xNN / \uNNNN,
 * so that a name holding an escape sequence or a newline cannot rewrite the
 * terminal or forge a log line.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16)}`;
  });
}

export function compareManifestErrors(a: ManifestError, b: ManifestError): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule);
}

/** Shows a value the way it was written: strings quoted, long values shortened. */
export function showValue(value: unknown): string {
  const text =
    typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? "null");
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** ["spec","network","subnetIds",0] -> spec.network.subnetIds[0] */
export function dottedPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}
