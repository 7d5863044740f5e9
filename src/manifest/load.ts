// Reading manifests from disk: files or directories (recursively *.yaml / *.yml).
// The only IO of src/manifest; everything after reading is parseManifests.
import { readdir, readFile, stat } from "node:fs/promises";
import { isAbsolute, join, relative } from "node:path";
import type { ManifestError } from "./manifestError.js";
import { type ManifestFile, type ManifestSet, parseManifests } from "./parse.js";

export interface LoadedManifests extends ManifestSet {
  /** Every manifest file read, in a stable order. */
  files: string[];
  /** Each file's text, by the name used in messages (to tell unchanged files apart). */
  texts: ReadonlyMap<string, string>;
}

const MANIFEST_FILE = /\.ya?ml$/;

/**
 * Loads every manifest under the given paths. Paths in messages are shown
 * relative to `cwd` when they are inside it, as the operator would type them.
 */
export async function loadManifests(
  paths: readonly string[],
  cwd: string,
): Promise<LoadedManifests> {
  const { files, problems } = await readManifestFiles(paths, cwd);
  const set = parseManifests(files);
  const errors = [...problems, ...set.errors];
  return {
    ...set,
    errors,
    files: files.map((f) => f.file),
    texts: new Map(files.map((f) => [f.file, f.text])),
  };
}

/** The manifest files under the given paths, read but not parsed; unreadable ones as errors. */
export async function readManifestFiles(
  paths: readonly string[],
  cwd: string,
): Promise<{ files: ManifestFile[]; problems: ManifestError[] }> {
  const found: string[] = [];
  const problems: ManifestError[] = [];
  for (const path of paths) {
    const absolute = isAbsolute(path) ? path : join(cwd, path);
    try {
      found.push(...(await collect(absolute)));
    } catch (error) {
      problems.push(unreadable(path, error));
    }
  }
  const unique = [...new Set(found)].sort();
  const files: ManifestFile[] = [];
  for (const absolute of unique) {
    const shown = displayPath(absolute, cwd);
    try {
      files.push({ file: shown, text: await readFile(absolute, "utf8") });
    } catch (error) {
      problems.push(unreadable(shown, error));
    }
  }
  return { files, problems };
}

async function collect(path: string): Promise<string[]> {
  const info = await stat(path);
  if (info.isFile()) return [path];
  const out: string[] = [];
  const entries = await readdir(path, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name.startsWith(".")) continue;
    const child = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await collect(child)));
    else if (entry.isFile() && MANIFEST_FILE.test(entry.name)) out.push(child);
  }
  return out;
}

function displayPath(absolute: string, cwd: string): string {
  const rel = relative(cwd, absolute);
  return rel && !rel.startsWith("..") ? rel : absolute;
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
