// From manifest text to ClusterSpecs: YAML with positions, schema, semantic
// rules, defaults, and the repository-wide uniqueness rules. Pure.
import { compareManifestErrors, formatManifestError, type ManifestError } from "./manifestError.js";
import { schemaErrors } from "./schemaValidation.js";
import { semanticErrors } from "./semanticRules.js";
import type { ClusterSpec, SourceLocation } from "./types.js";
import { parseYamlFile, type YamlDocument } from "./yamlSource.js";

export interface ManifestFile {
  /** Path as the operator wrote it or as found under a directory; used in every message. */
  file: string;
  text: string;
}

/** One document that failed, with the cluster it meant to describe when that is known. */
export interface InvalidManifest {
  cluster?: string;
  source: SourceLocation;
  errors: ManifestError[];
}

export interface ManifestSet {
  clusters: ClusterSpec[];
  invalid: InvalidManifest[];
  /** Every error of every file, sorted by file and position. */
  errors: ManifestError[];
}

export function parseManifests(files: readonly ManifestFile[]): ManifestSet {
  const valid: ClusterSpec[] = [];
  const invalid: InvalidManifest[] = [];
  for (const { file, text } of files) parseManifestFile(file, text, valid, invalid);
  return finishManifestSet(valid, invalid);
}

/**
 * One file's clusters into `valid`, its errors into `invalid`; never throws.
 * With finishManifestSet, what parseManifests does, for a caller that lets
 * other work run between files (a large file takes up to a second).
 */
export function parseManifestFile(
  file: string,
  text: string,
  valid: ClusterSpec[],
  invalid: InvalidManifest[],
): void {
  try {
    readFile(file, text, valid, invalid);
  } catch (error) {
    // Whatever goes wrong in one file stays in that file: the others go on.
    invalid.push(
      fileError(file, { line: 1, column: 1 }, "manifest.unexpected", {
        problem: `could not be read: ${error instanceof Error ? error.message : String(error)}`,
        hint: "the file is skipped; this is a quorate bug, please report it with the file",
      }),
    );
  }
}

/** The set from every file's clusters: names and stacks unique across files. */
export function finishManifestSet(valid: ClusterSpec[], invalid: InvalidManifest[]): ManifestSet {
  const { clusters, duplicates } = uniqueness(valid);
  invalid.push(...duplicates);
  const errors = invalid.flatMap((i) => i.errors).sort(compareManifestErrors);
  return { clusters, invalid, errors };
}

const SYNTAX_HINT: Record<string, string> = {
  "yaml.syntax": "fix the YAML; the file is not read until it parses",
  "yaml.duplicateKey": "a key may appear once in a map; remove or rename one of them",
  "yaml.aliases":
    "a manifest needs few aliases (&anchor / *alias), if any; write the values out instead",
  "yaml.tooDeep": "a manifest nests a few levels deep; flatten the document",
};

function readFile(
  file: string,
  text: string,
  valid: ClusterSpec[],
  invalid: InvalidManifest[],
): void {
  const parsed = parseYamlFile(text);
  for (const syntax of parsed.syntaxErrors) {
    const problem =
      syntax.rule === "yaml.syntax" ? `YAML syntax error: ${syntax.message}` : syntax.message;
    invalid.push(
      fileError(file, syntax.position, syntax.rule, {
        problem,
        hint: SYNTAX_HINT[syntax.rule] ?? SYNTAX_HINT["yaml.syntax"]!,
      }),
    );
  }
  for (const document of parsed.documents) {
    const source: SourceLocation = { file, ...document.start, document: document.index };
    const root = rootProblem(document.value);
    if (root) {
      invalid.push({
        source,
        errors: [{ file, ...document.start, path: "", rule: "manifest.root", ...root }],
      });
      continue;
    }
    const raw = document.value as { metadata?: { name?: unknown } };
    const cluster = typeof raw.metadata?.name === "string" ? raw.metadata.name : undefined;
    const errors = documentErrors(document, file);
    if (errors.length > 0) {
      const named = errors.map((e) => (cluster ? { ...e, cluster } : e));
      invalid.push({ ...(cluster ? { cluster } : {}), source, errors: named });
    } else {
      valid.push(toClusterSpec(document.value, source));
    }
  }
}

/** A document that is not a map is no manifest at all: it names no cluster. */
function rootProblem(value: unknown): { problem: string; got: string; hint: string } | undefined {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) return undefined;
  const got = value === null ? "null" : Array.isArray(value) ? "a list" : `a ${typeof value}`;
  return {
    problem: "the document is not a map",
    got,
    hint: "a manifest is a map with apiVersion, kind, metadata and spec, one per document",
  };
}

function fileError(
  file: string,
  position: { line: number; column: number },
  rule: string,
  what: { problem: string; hint: string },
): InvalidManifest {
  return {
    source: { file, ...position, document: -1 },
    errors: [{ file, ...position, path: "", rule, ...what }],
  };
}

/**
 * Schema errors first; semantic rules run too, so that one run reports every
 * mistake, except on fields the schema already flagged.
 */
function documentErrors(document: YamlDocument, file: string): ManifestError[] {
  const structural = schemaErrors(document, file);
  const flagged = structural.map((e) => e.path);
  // The semantic rules read metadata and spec as maps: without them the schema has said it all.
  const raw = document.value as { metadata?: unknown; spec?: unknown };
  if (!isMap(raw.metadata) || !isMap(raw.spec)) return structural;
  const semantic = semanticErrors(document, file).filter(
    (e) => !flagged.some((path) => e.path === path || e.path.startsWith(`${path}.`)),
  );
  return [...structural, ...semantic];
}

function isMap(value: unknown): boolean {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function formatManifestErrors(errors: readonly ManifestError[]): string {
  return errors.map((e) => `${formatManifestError(e)}\n`).join("");
}

/** Names and stack names must be unique: each cluster owns exactly one stack. */
function uniqueness(specs: ClusterSpec[]): {
  clusters: ClusterSpec[];
  duplicates: InvalidManifest[];
} {
  const clashes = new Map<ClusterSpec, ManifestError[]>();
  const check = (field: "name" | "stackName", path: string, what: string) => {
    const first = new Map<string, ClusterSpec>();
    for (const spec of specs) {
      const earlier = first.get(spec[field]);
      if (!earlier) {
        first.set(spec[field], spec);
        continue;
      }
      for (const [self, other] of [
        [spec, earlier],
        [earlier, spec],
      ] as const) {
        const list = clashes.get(self) ?? [];
        list.push({
          file: self.source.file,
          line: self.source.line,
          column: self.source.column,
          path,
          problem: `duplicate ${what}`,
          got: JSON.stringify(self[field]),
          hint: `also used by the manifest at ${other.source.file}:${other.source.line}:${other.source.column}; each cluster owns exactly one stack, so rename one of them`,
          rule: `unique.${field}`,
          cluster: self.name,
        });
        clashes.set(self, list);
      }
    }
  };
  check("name", "metadata.name", "cluster name");
  check("stackName", "spec.stackName", "stack name");
  return {
    clusters: specs.filter((s) => !clashes.has(s)),
    duplicates: [...clashes].map(([spec, errors]) => ({
      cluster: spec.name,
      source: spec.source,
      errors,
    })),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: validated and defaulted by the schema before this runs
function toClusterSpec(value: any, source: SourceLocation): ClusterSpec {
  const { metadata, spec } = value;
  const size: number = spec.size;
  return {
    name: metadata.name,
    labels: metadata.labels,
    annotations: metadata.annotations,
    source,
    region: spec.region,
    ...(spec.account
      ? {
          account: {
            roleArn: spec.account.roleArn,
            ...(spec.account.externalId ? { externalId: spec.account.externalId } : {}),
            sessionName: spec.account.sessionName ?? `quorate-${metadata.name}`,
          },
        }
      : {}),
    stackName: spec.stackName ?? `quorate-${metadata.name}`,
    size,
    instanceType: spec.instanceType,
    ...(spec.keyName ? { keyName: spec.keyName } : {}),
    ...(spec.kmsKeyId ? { kmsKeyId: spec.kmsKeyId } : {}),
    image: spec.image,
    network: spec.network,
    etcd: spec.etcd,
    updatePolicy: {
      ...spec.updatePolicy,
      minInstancesInService:
        spec.updatePolicy.minInstancesInService ??
        (spec.updatePolicy.order === "terminateFirst" ? size - 1 : size),
    },
    gates: spec.gates,
    ...(spec.backup
      ? { backup: { ...spec.backup, prefix: spec.backup.prefix ?? `${metadata.name}/` } }
      : {}),
    ...(spec.restore ? { restore: spec.restore } : {}),
    maintenance: spec.maintenance,
    suspend: spec.suspend,
    prune: spec.prune,
    terminationProtection: spec.terminationProtection,
    tags: spec.tags,
  };
}
