// JSON Schema validation with ajv, and the translation of ajv's errors into
// ManifestErrors that say what is wrong and what to do.
import { readFileSync } from "node:fs";
import type { ErrorObject, ValidateFunction } from "ajv";
import { validate as precompiled } from "./clusterValidator.generated.js";
import { dottedPath, type ManifestError, showValue } from "./manifestError.js";
import type { YamlDocument } from "./yamlSource.js";

const SCHEMA_URL = new URL("../../schemas/cluster.schema.json", import.meta.url);

export function clusterSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(SCHEMA_URL, "utf8"));
}

/**
 * ajv's standalone code for the schema, generated ahead of time (a test keeps it
 * equal to what ajv makes of the schema now), so that no run compiles it.
 */
function validator(): ValidateFunction {
  return precompiled as unknown as ValidateFunction;
}

interface Hint {
  problem?: string;
  hint: string;
}

const DURATION_HINT: Hint = {
  problem: "is not an ISO 8601 duration",
  hint: "write it as CloudFormation does, for example PT30S, PT15M or PT1H30M",
};

/** Operator words for the schema rules, keyed by "field.path keyword" (array indexes as []). */
const HINTS: Record<string, Hint> = {
  "apiVersion const": { hint: "this version of quorate reads quorate.dev/v1alpha1 manifests" },
  "kind const": { hint: "quorate manages EtcdCluster objects only" },
  "metadata.name pattern": {
    problem: "is not a valid cluster name",
    hint: "use lowercase letters, digits and dashes (at most 40), starting and ending with a letter or digit; it becomes part of the stack name",
  },
  "spec.region pattern": { problem: "is not an AWS region", hint: "for example eu-west-1" },
  "spec.stackName pattern": {
    problem: "is not a valid stack name",
    hint: "CloudFormation stack names start with a letter and hold only letters, digits and dashes (at most 128)",
  },
  "spec.account.roleArn pattern": {
    problem: "is not an IAM role ARN",
    hint: "write arn:aws:iam::<12-digit account id>:role/<name>, the role quorate assumes in the cluster's account",
  },
  "spec.account.sessionName pattern": {
    problem: "is not a role session name",
    hint: "2 to 64 letters, digits and + = , . @ _ - (STS's rule for RoleSessionName)",
  },
  "spec.account.externalId pattern": {
    problem: "is not an external id",
    hint: "2 to 1224 letters, digits and + = , . @ : / _ - (STS's rule for ExternalId)",
  },
  "spec.size enum": {
    problem: "must be odd and between 1 and 9",
    hint: "a cluster of n members tolerates (n-1)/2 failed members, so an even size adds quorum cost without adding tolerance; use 3 or 5",
  },
  "spec.instanceType pattern": {
    problem: "is not an EC2 instance type",
    hint: "for example m6i.large",
  },
  "spec.kmsKeyId pattern": {
    problem: "is not a KMS key id or key ARN",
    hint: "give the key id (1234abcd-12ab-34cd-56ef-1234567890ab) or its key ARN; an alias cannot scope the members' kms:Decrypt to one key",
  },
  "spec.etcd.autoCompaction.retention pattern": {
    problem: "is not a retention etcd reads",
    hint: "write a duration such as 1h, 30m or 1h30m for mode periodic, or a number of revisions such as 10000 for mode revision",
  },
  "spec.image.imageId pattern": {
    problem: "is not an AMI id",
    hint: "an AMI id is ami- followed by 8 or 17 hexadecimal digits, for example ami-0abcdef1234567890",
  },
  "spec.image.version pattern": {
    problem: "is not a Flatcar release version",
    hint: "pin a release such as 4081.2.0 (https://www.flatcar.org/releases); `current` is refused because it changes without a commit",
  },
  "spec.network.vpcId pattern": {
    problem: "is not a VPC id",
    hint: "a VPC id is vpc- followed by 8 or 17 hexadecimal digits",
  },
  "spec.network.subnetIds minItems": {
    problem: "must list at least one subnet",
    hint: "the Auto Scaling Group launches members into these subnets; list one per availability zone",
  },
  "spec.network.subnetIds[] pattern": {
    problem: "is not a subnet id",
    hint: "a subnet id is subnet- followed by 8 or 17 hexadecimal digits",
  },
  "spec.network.clientCidrs[] pattern": {
    problem: "is not an IPv4 CIDR",
    hint: "for example 10.0.0.0/16",
  },
  "spec.etcd.version pattern": {
    problem: "is not an etcd version",
    hint: "write MAJOR.MINOR.PATCH, for example 3.5.17",
  },
  "spec.updatePolicy.maxBatchSize const": {
    problem: "must be 1",
    hint: "etcd changes membership one member at a time; replacing two members at once can cost quorum",
  },
  "spec.tags propertyNames": {
    problem: "has a tag key that instance metadata refuses",
    hint: "CloudFormation copies stack tags onto every instance, and launches with metadata tags on fail for keys with / or spaces; use letters, digits and + - = . , _ : @",
  },
};

export function schemaErrors(document: YamlDocument, file: string): ManifestError[] {
  const validate = validator();
  if (validate(document.value)) return [];
  // A failed propertyNames also reports its inner pattern error; the outer one says it better.
  const errors = (validate.errors ?? []).filter((e) => !e.schemaPath.includes("/propertyNames/"));
  return dedupe(errors.map((e) => toManifestError(e, document, file)));
}

function toManifestError(error: ErrorObject, document: YamlDocument, file: string): ManifestError {
  const path = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "required") {
    const missing = String(params.missingProperty);
    const fieldPath = [...path, missing];
    const described = (
      error.parentSchema?.properties as Record<string, { description?: string }>
    )?.[missing]?.description;
    return located(document, file, path, true, {
      path: dottedPath(fieldPath),
      problem: "is required",
      hint: described ?? "add it",
      rule: "schema.required",
    });
  }
  if (error.keyword === "additionalProperties") {
    const unknown = String(params.additionalProperty);
    const allowed = Object.keys((error.parentSchema?.properties as object) ?? {});
    const suggestion = closest(unknown, allowed);
    return located(document, file, [...path, unknown], true, {
      path: dottedPath([...path, unknown]),
      problem: "is not a known field",
      hint: suggestion
        ? `did you mean ${suggestion}?`
        : `the fields allowed here are ${allowed.join(", ")}`,
      rule: "schema.unknownField",
    });
  }
  const key = `${dottedPath(path.map((p) => (typeof p === "number" ? -1 : p))).replaceAll("[-1]", "[]")} ${error.keyword}`;
  const isDuration =
    error.keyword === "pattern" && String(params.pattern ?? "").startsWith("^PT(?=");
  const hint = HINTS[key] ?? (isDuration ? DURATION_HINT : undefined);
  return located(document, file, path, error.keyword === "propertyNames", {
    path: dottedPath(path),
    problem: hint?.problem ?? genericProblem(error),
    got: error.keyword === "propertyNames" ? showValue(params.propertyName) : showValue(error.data),
    hint: hint?.hint ?? describeField(error),
    rule: `schema.${error.keyword}`,
  });
}

function located(
  document: YamlDocument,
  file: string,
  path: (string | number)[],
  key: boolean,
  rest: Omit<ManifestError, "file" | "line" | "column">,
): ManifestError {
  const position = document.locate(path, { key });
  return { file, line: position.line, column: position.column, ...rest };
}

function genericProblem(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "type":
      return `must be ${article(String(params.type))}`;
    case "enum":
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => String(v)).join(", ")}`;
    case "const":
      return `must be ${String(params.allowedValue)}`;
    case "minimum":
      return `must be at least ${params.limit}`;
    case "maximum":
      return `must be at most ${params.limit}`;
    case "minItems":
      return `must have at least ${params.limit} item(s)`;
    case "uniqueItems":
      return "has duplicate items";
    case "maxLength":
      return `must be at most ${params.limit} characters`;
    case "minLength":
      return "must not be empty";
    case "pattern":
      return "has the wrong form";
    default:
      return error.message ?? "is invalid";
  }
}

function describeField(error: ErrorObject): string {
  const schema = error.parentSchema as { description?: string } | undefined;
  return schema?.description ?? "see schemas/cluster.schema.json";
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split("/")
    .map((raw) => raw.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

function dedupe(errors: ManifestError[]): ManifestError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.path}|${e.problem}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The allowed name closest to a misspelt one, if it is close enough to be a typo. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
