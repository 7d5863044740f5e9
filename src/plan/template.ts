// Safe reading of CloudFormation templates that may be anything: a template
// from an old revision, a hand edit, or a fuzzer. Nothing here throws.

/** A CloudFormation template as far as planning reads it. */
export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
  [key: string]: unknown;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  [key: string]: unknown;
}

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The template's resources that have a string Type; anything else is left out. */
export function resourcesOf(template: unknown): Map<string, CfnResource> {
  const out = new Map<string, CfnResource>();
  if (!isRecord(template) || !isRecord(template.Resources)) return out;
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (isRecord(resource) && typeof resource.Type === "string") {
      out.set(logicalId, resource as CfnResource);
    }
  }
  return out;
}

export function propertiesOf(resource: CfnResource | undefined): JsonRecord {
  return resource && isRecord(resource.Properties) ? resource.Properties : {};
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(b, key) || !deepEqual(a[key], b[key])) return false;
    }
    return true;
  }
  // Templates written by hand say "3" where the renderer says 3; CloudFormation treats them alike.
  if (
    (typeof a === "number" && typeof b === "string") ||
    (typeof a === "string" && typeof b === "number")
  ) {
    return String(a) === String(b);
  }
  return false;
}

/** A reference from one resource's definition to another resource. */
export interface Reference {
  /** The referenced logical id. */
  target: string;
  /** The attribute for Fn::GetAtt; undefined for Ref. */
  attribute?: string;
  /** Slash path of the value holding the reference, e.g. /Properties/LaunchTemplate/Version. */
  path: string;
}

/** Every Ref, Fn::GetAtt and Fn::Sub ${X} / ${X.Attr} under value, with its path. */
export function referencesIn(value: unknown, path: string, out: Reference[] = []): Reference[] {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      referencesIn(item, `${path}/${i}`, out);
    });
    return out;
  }
  if (!isRecord(value)) return out;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const arg = value[key];
    if (key === "Ref" && typeof arg === "string") {
      out.push({ target: arg, path });
      return out;
    }
    if (key === "Fn::GetAtt") {
      const ref = getAttTarget(arg);
      if (ref) out.push({ ...ref, path });
      return out;
    }
    if (key === "Fn::Sub") {
      const text = typeof arg === "string" ? arg : Array.isArray(arg) ? arg[0] : undefined;
      if (typeof text === "string") {
        for (const match of text.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const [target, attribute] = (match[1] ?? "").split(".", 2) as [string, string?];
          out.push(attribute ? { target, attribute, path } : { target, path });
        }
      }
      if (Array.isArray(arg)) referencesIn(arg[1], path, out);
      return out;
    }
  }
  for (const key of keys) referencesIn(value[key], `${path}/${escapePathSegment(key)}`, out);
  return out;
}

function getAttTarget(arg: unknown): { target: string; attribute: string } | undefined {
  if (Array.isArray(arg) && typeof arg[0] === "string" && typeof arg[1] === "string") {
    return { target: arg[0], attribute: arg[1] };
  }
  if (typeof arg === "string") {
    const dot = arg.indexOf(".");
    if (dot > 0) return { target: arg.slice(0, dot), attribute: arg.slice(dot + 1) };
  }
  return undefined;
}

// JSON Pointer escaping (RFC 6901), so a key holding "/" cannot fake a deeper path.
export function escapePathSegment(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** The value at a slash path in value, or undefined. */
export function valueAtPath(value: unknown, path: string): unknown {
  let current = value;
  for (const raw of path.split("/").slice(1)) {
    const segment = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(current)) current = current[Number(segment)];
    else if (isRecord(current)) current = current[segment];
    else return undefined;
  }
  return current;
}

/** A whole number from a template value (3 or "3"), or undefined. */
export function intValue(value: unknown): number | undefined {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) ? n : undefined;
}
