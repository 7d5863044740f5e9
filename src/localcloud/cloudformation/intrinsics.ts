// The intrinsic functions quorate's templates use, evaluated as CloudFormation
// does: Ref (resources, parameters, pseudo parameters), Fn::GetAtt, Fn::Base64,
// Fn::Sub (both forms) and Fn::Join. Anything else is refused with a clear
// template error. Pure: the values of resources come in through a context.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
import { validationError } from "../protocol/awsError.js";
import type { Json, JsonObject } from "../state/model.js";

/** What a change set shows for a value only known once the change is applied. */
export const KNOWN_AFTER_APPLY = "{{changeSet:KNOWN_AFTER_APPLY}}";

const IMPLEMENTED = ["Ref", "Fn::GetAtt", "Fn::Base64", "Fn::Sub", "Fn::Join"] as const;

/** Unknown until applied: a resource not created yet, or one whose attribute will change. */
export const UNKNOWN: unique symbol = Symbol("unknown");
/** AWS::NoValue: removes the property or list element it stands in. */
const NO_VALUE: unique symbol = Symbol("AWS::NoValue");

type Value = Json | typeof UNKNOWN | typeof NO_VALUE;

export interface IntrinsicContext {
  /** Ref of a resource or parameter (pseudo parameters are handled here); UNKNOWN when not known yet. */
  ref(name: string): string | string[] | typeof UNKNOWN;
  getAtt(logicalId: string, attribute: string): string | typeof UNKNOWN;
  stackName: string;
  stackId: string;
  region: string;
}

export const ACCOUNT_PSEUDO = "000000000000";

/** The one-key object of an intrinsic ({"Ref": x}, {"Fn::Sub": x}), or undefined. */
export function intrinsicOf(value: unknown): { name: string; arg: Json } | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const name = keys[0]!;
  if (name !== "Ref" && name !== "Condition" && !name.startsWith("Fn::")) return undefined;
  return { name, arg: (value as JsonObject)[name] as Json };
}

function notImplemented(name: string): Error {
  return validationError(
    `Template error: the quorate local cloud does not implement ${name} (it evaluates ${IMPLEMENTED.join(", ")}); render the template without it`,
  );
}

const PSEUDO = new Set([
  "AWS::StackName",
  "AWS::StackId",
  "AWS::Region",
  "AWS::AccountId",
  "AWS::Partition",
  "AWS::URLSuffix",
  "AWS::NoValue",
  "AWS::NotificationARNs",
]);

function getAttArgs(arg: Json): [string, string] {
  if (typeof arg === "string") {
    const dot = arg.indexOf(".");
    if (dot > 0) return [arg.slice(0, dot), arg.slice(dot + 1)];
  }
  if (
    Array.isArray(arg) &&
    arg.length === 2 &&
    typeof arg[0] === "string" &&
    typeof arg[1] === "string"
  ) {
    return [arg[0], arg[1]];
  }
  throw validationError(
    `Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute (got ${JSON.stringify(arg)})`,
  );
}

function subArgs(arg: Json): { text: string; vars: JsonObject } {
  if (typeof arg === "string") return { text: arg, vars: {} };
  if (
    Array.isArray(arg) &&
    arg.length === 2 &&
    typeof arg[0] === "string" &&
    typeof arg[1] === "object" &&
    arg[1] !== null &&
    !Array.isArray(arg[1])
  ) {
    return { text: arg[0], vars: arg[1] };
  }
  throw validationError(
    "Template error: Fn::Sub expects a string or a list of a string and a map of variables",
  );
}

/** The ${...} placeholders of a Fn::Sub string, without the ${!literal} ones. */
export function subPlaceholders(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/\$\{([^}]*)\}/g)) {
    const inner = match[1] ?? "";
    if (!inner.startsWith("!")) out.push(inner.trim());
  }
  return out;
}

/**
 * Checks the intrinsics in a value: implemented functions only, well-formed,
 * referring to declared names. Names that are not declared go into `missing`.
 */
export function checkIntrinsics(
  value: unknown,
  names: { resources: ReadonlySet<string>; parameters: ReadonlySet<string> },
  missing: Set<string>,
  locals: ReadonlySet<string> = new Set(),
): void {
  if (Array.isArray(value)) {
    for (const item of value) checkIntrinsics(item, names, missing, locals);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  const fn = intrinsicOf(value);
  if (!fn) {
    for (const item of Object.values(value)) checkIntrinsics(item, names, missing, locals);
    return;
  }
  const known = (name: string) =>
    names.resources.has(name) || names.parameters.has(name) || PSEUDO.has(name) || locals.has(name);
  switch (fn.name) {
    case "Ref":
      if (typeof fn.arg !== "string")
        throw validationError(
          "Template error: every Ref object requires a single string parameter.",
        );
      if (!known(fn.arg)) missing.add(fn.arg);
      return;
    case "Fn::GetAtt": {
      const [logicalId] = getAttArgs(fn.arg);
      if (!names.resources.has(logicalId)) {
        throw validationError(
          `Template error: instance of Fn::GetAtt references undefined resource ${logicalId}`,
        );
      }
      return;
    }
    case "Fn::Base64":
      checkIntrinsics(fn.arg, names, missing, locals);
      return;
    case "Fn::Join": {
      const arg = fn.arg;
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== "string") {
        throw validationError(
          "Template error: Fn::Join requires a delimiter string and a list of values",
        );
      }
      checkIntrinsics(arg[1], names, missing, locals);
      return;
    }
    case "Fn::Sub": {
      const { text, vars } = subArgs(fn.arg);
      checkIntrinsics(vars, names, missing, locals);
      const varNames = new Set(Object.keys(vars));
      for (const placeholder of subPlaceholders(text)) {
        const [head = ""] = placeholder.split(".");
        if (varNames.has(placeholder)) continue;
        if (placeholder.includes(".") && !PSEUDO.has(placeholder)) {
          if (!names.resources.has(head)) {
            throw validationError(
              `Template error: instance of Fn::Sub references undefined resource ${head}`,
            );
          }
        } else if (!known(placeholder)) {
          missing.add(placeholder);
        }
      }
      return;
    }
    default:
      throw notImplemented(fn.name);
  }
}

/** Logical ids a value refers to through Ref, Fn::GetAtt and Fn::Sub (for dependency order). */
export function referencedResources(
  value: unknown,
  resources: ReadonlySet<string>,
  into = new Set<string>(),
): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedResources(item, resources, into);
    return into;
  }
  if (typeof value !== "object" || value === null) return into;
  const fn = intrinsicOf(value);
  if (!fn) {
    for (const item of Object.values(value)) referencedResources(item, resources, into);
    return into;
  }
  if (fn.name === "Ref" && typeof fn.arg === "string" && resources.has(fn.arg)) into.add(fn.arg);
  else if (fn.name === "Fn::GetAtt") {
    const [logicalId] = getAttArgs(fn.arg);
    if (resources.has(logicalId)) into.add(logicalId);
  } else if (fn.name === "Fn::Sub") {
    const { text, vars } = subArgs(fn.arg);
    referencedResources(vars, resources, into);
    for (const placeholder of subPlaceholders(text)) {
      if (placeholder in vars) continue;
      const head = placeholder.split(".")[0] ?? "";
      if (resources.has(head)) into.add(head);
    }
  } else referencedResources(fn.arg, resources, into);
  return into;
}

export interface ResourceReference {
  kind: "Ref" | "GetAtt";
  logicalId: string;
  /** For GetAtt: the attribute. */
  attribute?: string;
  /** JSON pointer of the intrinsic within the value. */
  path: string;
}

/** Every reference to a resource in a value (Ref, Fn::GetAtt, and both inside Fn::Sub), with its path. */
export function resourceReferences(
  value: unknown,
  resources: ReadonlySet<string>,
  path = "",
): ResourceReference[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => resourceReferences(item, resources, `${path}/${i}`));
  }
  if (typeof value !== "object" || value === null) return [];
  const fn = intrinsicOf(value);
  if (!fn) {
    return Object.entries(value).flatMap(([key, item]) =>
      resourceReferences(item, resources, `${path}/${key}`),
    );
  }
  if (fn.name === "Ref") {
    return typeof fn.arg === "string" && resources.has(fn.arg)
      ? [{ kind: "Ref", logicalId: fn.arg, path }]
      : [];
  }
  if (fn.name === "Fn::GetAtt") {
    const [logicalId, attribute] = getAttArgs(fn.arg);
    return resources.has(logicalId) ? [{ kind: "GetAtt", logicalId, attribute, path }] : [];
  }
  if (fn.name === "Fn::Sub") {
    const { text, vars } = subArgs(fn.arg);
    const out = resourceReferences(vars, resources, path);
    for (const placeholder of subPlaceholders(text)) {
      if (placeholder in vars || PSEUDO.has(placeholder)) continue;
      const dot = placeholder.indexOf(".");
      const logicalId = dot > 0 ? placeholder.slice(0, dot) : placeholder;
      if (!resources.has(logicalId)) continue;
      out.push(
        dot > 0
          ? { kind: "GetAtt", logicalId, attribute: placeholder.slice(dot + 1), path }
          : { kind: "Ref", logicalId, path },
      );
    }
    return out;
  }
  return resourceReferences(fn.arg, resources, path);
}

/** Resolves every intrinsic; UNKNOWN parts make the whole value KNOWN_AFTER_APPLY. */
export function resolveValue(value: Json, ctx: IntrinsicContext): Json {
  const resolved = resolve(value, ctx);
  if (resolved === UNKNOWN) return KNOWN_AFTER_APPLY;
  if (resolved === NO_VALUE) return null;
  return resolved;
}

/** Resolves the properties of a resource; properties that resolve to AWS::NoValue are left out. */
export function resolveProperties(properties: JsonObject, ctx: IntrinsicContext): JsonObject {
  const out = resolveValue(properties, ctx);
  return (out ?? {}) as JsonObject;
}

/** True when the resolved value contains a part only known after apply. */
export function hasUnknown(value: Json): boolean {
  if (value === KNOWN_AFTER_APPLY) return true;
  if (Array.isArray(value)) return value.some(hasUnknown);
  if (typeof value === "object" && value !== null) return Object.values(value).some(hasUnknown);
  return false;
}

function resolve(value: Json, ctx: IntrinsicContext): Value {
  if (Array.isArray(value)) {
    const out: Json[] = [];
    for (const item of value) {
      const v = resolve(item, ctx);
      if (v === NO_VALUE) continue;
      out.push(v === UNKNOWN ? KNOWN_AFTER_APPLY : v);
    }
    return out;
  }
  if (typeof value !== "object" || value === null) return value;
  const fn = intrinsicOf(value);
  if (!fn) {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(value)) {
      const v = resolve(item, ctx);
      if (v === NO_VALUE) continue;
      out[key] = v === UNKNOWN ? KNOWN_AFTER_APPLY : v;
    }
    return out;
  }
  switch (fn.name) {
    case "Ref":
      return ref(String(fn.arg), ctx);
    case "Fn::GetAtt": {
      const [logicalId, attribute] = getAttArgs(fn.arg);
      return ctx.getAtt(logicalId, attribute);
    }
    case "Fn::Base64": {
      const inner = resolve(fn.arg, ctx);
      if (inner === UNKNOWN || inner === NO_VALUE) return UNKNOWN;
      return Buffer.from(String(inner), "utf8").toString("base64");
    }
    case "Fn::Join": {
      const [separator, list] = fn.arg as [string, Json];
      const items = resolve(list, ctx);
      if (items === UNKNOWN || !Array.isArray(items)) return UNKNOWN;
      if (items.some((item) => item === KNOWN_AFTER_APPLY)) return UNKNOWN;
      return items
        .map((item) => (Array.isArray(item) ? item.join(separator) : String(item)))
        .join(separator);
    }
    case "Fn::Sub":
      return sub(fn.arg, ctx);
    default:
      throw notImplemented(fn.name);
  }
}

function ref(name: string, ctx: IntrinsicContext): Value {
  switch (name) {
    case "AWS::StackName":
      return ctx.stackName;
    case "AWS::StackId":
      return ctx.stackId;
    case "AWS::Region":
      return ctx.region;
    case "AWS::AccountId":
      return ACCOUNT_PSEUDO;
    case "AWS::Partition":
      return "aws";
    case "AWS::URLSuffix":
      return "amazonaws.com";
    case "AWS::NoValue":
      return NO_VALUE;
    case "AWS::NotificationARNs":
      return [];
    default:
      return ctx.ref(name);
  }
}

function sub(arg: Json, ctx: IntrinsicContext): Value {
  const { text, vars } = subArgs(arg);
  const values = new Map<string, Value>();
  for (const [key, v] of Object.entries(vars)) values.set(key, resolve(v, ctx));
  let unknown = false;
  const out = text.replace(/\$\{([^}]*)\}/g, (whole, innerRaw: string) => {
    if (innerRaw.startsWith("!")) return `\${${innerRaw.slice(1)}}`;
    const inner = innerRaw.trim();
    let v: Value;
    if (values.has(inner)) v = values.get(inner)!;
    else if (inner.includes(".") && !PSEUDO.has(inner)) {
      const dot = inner.indexOf(".");
      v = ctx.getAtt(inner.slice(0, dot), inner.slice(dot + 1));
    } else v = ref(inner, ctx);
    if (v === UNKNOWN || v === KNOWN_AFTER_APPLY) {
      unknown = true;
      return whole;
    }
    if (v === NO_VALUE || v === null) return "";
    return Array.isArray(v) ? v.join(",") : String(v);
  });
  return unknown ? UNKNOWN : out;
}
