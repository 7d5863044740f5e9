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
  for (const { file, text } of files) {
    const parsed = parseYamlFile(text);
    for (const syntax of parsed.syntaxErrors) {
      invalid.push({
        source: { file, ...syntax.position, document: -1 },
        errors: [
          {
            file,
            ...syntax.position,
            path: "",
            problem: `YAML syntax error: ${syntax.message}`,
            hint: "fix the YAML; the file is not read until it parses",
            rule: "yaml.syntax",
          },
        ],
      });
    }
    for (const document of parsed.documents) {
      const source: SourceLocation = { file, ...document.start, document: document.index };
      const raw = document.value as { metadata?: { name?: unknown } } | null;
      const cluster = typeof raw?.metadata?.name === "string" ? raw.metadata.name : undefined;
      const errors = documentErrors(document, file);
      if (errors.length > 0) {
        const named = errors.map((e) => (cluster ? { ...e, cluster } : e));
        invalid.push({ ...(cluster ? { cluster } : {}), source, errors: named });
      } else {
        valid.push(toClusterSpec(document.value, source));
      }
    }
  }
  const { clusters, duplicates } = uniqueness(valid);
  invalid.push(...duplicates);
  const errors = invalid.flatMap((i) => i.errors).sort(compareManifestErrors);
  return { clusters, invalid, errors };
}

/**
 * Schema errors first; semantic rules run too, so that one run reports every
 * mistake, except on fields the schema already flagged.
 */
function documentErrors(document: YamlDocument, file: string): ManifestError[] {
  const structural = schemaErrors(document, file);
  const flagged = structural.map((e) => e.path);
  const semantic = semanticErrors(document, file).filter(
    (e) => !flagged.some((path) => e.path === path || e.path.startsWith(`${path}.`)),
  );
  return [...structural, ...semantic];
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
    stackName: spec.stackName ?? `quorate-${metadata.name}`,
    size,
    instanceType: spec.instanceType,
    ...(spec.keyName ? { keyName: spec.keyName } : {}),
    image: spec.image,
    network: spec.network,
    etcd: spec.etcd,
    updatePolicy: {
      ...spec.updatePolicy,
      minInstancesInService: spec.updatePolicy.minInstancesInService ?? size - 1,
    },
    gates: spec.gates,
    ...(spec.backup
      ? { backup: { ...spec.backup, prefix: spec.backup.prefix ?? `${metadata.name}/` } }
      : {}),
    ...(spec.restore ? { restore: spec.restore } : {}),
    suspend: spec.suspend,
    prune: spec.prune,
    terminationProtection: spec.terminationProtection,
    tags: spec.tags,
  };
}
