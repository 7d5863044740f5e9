// A refused etcd version step, as a manifest error at the head manifest's
// spec.etcd.version: the plan of that cluster becomes this error, so that
// `plan --offline` in a pull request says FILE:LINE:COL and what to do.
import { formatManifestError, type ManifestError } from "./manifestError.js";
import type { ClusterSpec } from "./types.js";
import { parseYamlFile } from "./yamlSource.js";

/** What etcd's version rules say about a refused step (src/etcd/versionRules.ts). */
export interface RefusedVersionStep {
  rule: string;
  message: string;
  hint: string;
}

export const VERSION_PATH = ["spec", "etcd", "version"] as const;

/**
 * The error for a refused step, located in the manifest's text when it is
 * known (the default version has no line of its own: then the document's).
 */
export function versionStepError(
  spec: ClusterSpec,
  step: RefusedVersionStep,
  text: string | undefined,
): ManifestError {
  const document =
    text === undefined
      ? undefined
      : parseYamlFile(text).documents.find((d) => d.index === spec.source.document);
  const at = document?.locate(VERSION_PATH) ?? spec.source;
  return {
    file: spec.source.file,
    line: at.line,
    column: at.column,
    path: VERSION_PATH.join("."),
    problem: step.message,
    hint: step.hint,
    rule: `etcd.version.${step.rule}`,
    cluster: spec.name,
  };
}

/** One line: FILE:LINE:COL: spec.etcd.version: what is wrong: what to do. */
export function formatVersionStepError(
  spec: ClusterSpec,
  step: RefusedVersionStep,
  text: string | undefined,
): string {
  return formatManifestError(versionStepError(spec, step, text));
}
