// Reading manifests from disk: files or directories (recursively *.yaml / *.yml).
// The only IO of src/manifest; everything after reading is parse.ts, file by file.
import { open, readdir, stat } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import { setImmediate } from "node:timers/promises";
import { compareManifestErrors, escapeControl, type ManifestError } from "./manifestError.js";
import {
  finishManifestSet,
  type InvalidManifest,
  type ManifestFile,
  type ManifestSet,
  parseManifestFile,
} from "./parse.js";
import type { ClusterSpec } from "./types.js";

export interface LoadedManifests extends ManifestSet {
  /** Every manifest file read, in a stable order. */
  files: string[];
  /** Each file's text, by the name used in messages (to tell unchanged files apart). */
  texts: ReadonlyMap<string, string>;
  /** What was skipped and why (a symbolic link), one line each, for the log. */
  warnings: string[];
}

const MANIFEST_FILE = /\.ya?ml$/;

/**
 * The largest manifest file read, in bytes (1 MiB; Kubernetes stops an object at
 * 1.5 MiB). A cluster manifest is a few kilobytes; a larger file is refused
 * before it is read, so that no file can hold the reconciler for long
 * (README, "Manifest limits").
 */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/**
 * Loads every manifest under the given paths. Paths in messages are shown
 * relative to `cwd` when they are inside it, as the operator would type them.
 */
export async function loadManifests(
  paths: readonly string[],
  cwd: string,
): Promise<LoadedManifests> {
  const { files, problems, refused, warnings } = await readManifestFiles(paths, cwd);
  // File by file, yielding between them: parsing is synchronous and a 1 MiB
  // file takes up to a second, so without the yields a repository of large
  // files held the event loop (heartbeats, /healthz, a SIGTERM's bounded stop)
  // for as long as all of them took.
  const valid: ClusterSpec[] = [];
  const invalid: InvalidManifest[] = [];
  for (const { file, text } of files) {
    parseManifestFile(file, text, valid, invalid);
    await setImmediate();
  }
  const set = finishManifestSet(valid, invalid);
  const errors = [...problems, ...set.errors].sort(compareManifestErrors);
  return {
    ...set,
    // A file found but refused (too large, not UTF-8) is an invalid manifest of
    // its own, as a file that does not parse is: the daemon's status names it.
    invalid: [
      ...refused.map((e) => ({
        source: { file: e.file, line: e.line, column: e.column, document: -1 },
        errors: [e],
      })),
      ...set.invalid,
    ],
    errors,
    warnings,
    files: files.map((f) => f.file),
    texts: new Map(files.map((f) => [f.file, f.text])),
  };
}

/**
 * The manifest files under the given paths, read but not parsed; unreadable
 * ones as errors (`problems`), those of a file found but not read also in `refused`.
 */
export async function readManifestFiles(
  paths: readonly string[],
  cwd: string,
): Promise<{
  files: ManifestFile[];
  problems: ManifestError[];
  refused: ManifestError[];
  warnings: string[];
}> {
  const found: string[] = [];
  const problems: ManifestError[] = [];
  const refused: ManifestError[] = [];
  const links: string[] = [];
  for (const path of paths) {
    const absolute = isAbsolute(path) ? path : join(cwd, path);
    try {
      found.push(...(await collect(absolute, links)));
    } catch (error) {
      problems.push(unreadable(path, error));
    }
  }
  const unique = [...new Set(found)].sort();
  const files: ManifestFile[] = [];
  for (const absolute of unique) {
    const shown = displayPath(absolute, cwd);
    try {
      const read = await readBounded(absolute);
      if (read.size > MAX_MANIFEST_BYTES) {
        refused.push(tooLarge(shown, read.size));
        continue;
      }
      const decoded = decodeUtf8(read.bytes);
      if (typeof decoded === "string") files.push({ file: shown, text: decoded });
      else refused.push(badEncoding(shown, decoded));
    } catch (error) {
      refused.push(unreadable(shown, error));
    }
  }
  problems.push(...refused);
  const warnings = links.map(
    (link) =>
      `${escapeControl(displayPath(link, cwd))} is a symbolic link and is not read: a link may point outside the repository; commit the manifest itself`,
  );
  return { files, problems, refused, warnings };
}

/** The file's size, and its bytes only when it is within the cap. */
async function readBounded(path: string): Promise<{ size: number; bytes: Uint8Array }> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size > MAX_MANIFEST_BYTES) return { size, bytes: new Uint8Array() };
    // Read one byte past the cap: a file that grew since the stat is still caught.
    const buffer = Buffer.alloc(MAX_MANIFEST_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    return { size: length, bytes: buffer.subarray(0, length) };
  } finally {
    await handle.close();
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The text, or the line and column of the first byte that is not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | { line: number; column: number } {
  try {
    return UTF8.decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    // Lines and columns as the text before the bad byte reads.
    const before = new TextDecoder("utf-8").decode(bytes.subarray(0, bad));
    const lines = before.split("\n");
    return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
  }
}

/** Offset of the first byte that does not begin or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need =
      b < 0x80
        ? 0
        : b >= 0xc2 && b <= 0xdf
          ? 1
          : b >= 0xe0 && b <= 0xef
            ? 2
            : b >= 0xf0 && b <= 0xf4
              ? 3
              : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    // Overlong, surrogate and beyond-U+10FFFF forms are refused by the decoder too.
    if (need > 0) {
      try {
        UTF8.decode(bytes.subarray(i, i + need + 1));
      } catch {
        return i;
      }
    }
    i += need + 1;
  }
  return bytes.length;
}

async function collect(path: string, links: string[]): Promise<string[]> {
  const info = await stat(path);
  if (info.isFile()) return [path];
  const out: string[] = [];
  const entries = await readdir(path, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith(".")) continue;
    const child = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await collect(child, links)));
    else if (entry.isFile() && MANIFEST_FILE.test(entry.name)) out.push(child);
    else if (entry.isSymbolicLink()) links.push(child);
  }
  return out;
}

function displayPath(absolute: string, cwd: string): string {
  const rel = relative(cwd, absolute);
  return rel && !rel.startsWith("..") ? rel : absolute;
}

function tooLarge(path: string, size: number): ManifestError {
  return {
    file: path,
    line: 1,
    column: 1,
    path: "",
    problem: `is ${size} bytes, more than the ${MAX_MANIFEST_BYTES} bytes (1 MiB) a manifest may hold`,
    hint: "a cluster manifest is a few kilobytes; the file was not read. Split it, or remove what does not belong in it",
    rule: "manifest.tooLarge",
  };
}

function badEncoding(path: string, at: { line: number; column: number }): ManifestError {
  return {
    file: path,
    ...at,
    path: "",
    problem: "is not UTF-8 text",
    hint: "manifests are read as UTF-8; save the file as UTF-8 (the file is not read until it is)",
    rule: "manifest.encoding",
  };
}

function unreadable(path: string, error: unknown): ManifestError {
  const code = (error as NodeJS.ErrnoException)?.code;
  const reason = code === "ENOENT" ? "does not exist" : `cannot be read (${code ?? String(error)})`;
  return {
    file: path,
    line: 1,
    column: 1,
    path: "",
    problem: `${path} ${reason}`,
    hint: "pass a manifest file or a directory of *.yaml manifests",
    rule: "file.unreadable",
  };
}
