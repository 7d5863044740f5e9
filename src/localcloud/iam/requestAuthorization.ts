// What IAM evaluates for one call the local cloud serves: the IAM action, the
// resource ARN and the condition keys AWS would use for it. Pure: the live
// resources (their ARNs and tags) come in through a lookup. Actions without
// resource-level permissions are evaluated on "*", as AWS does.
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html

import { createHash } from "node:crypto";

export type ContextValues = Record<string, string | string[]>;

export interface AuthorizationRequest {
  /** service:Action, as a policy names it. */
  action: string;
  resource: string;
  context: ContextValues;
}

export interface Tagged {
  arn: string;
  tags: { key: string; value: string }[];
}

/** The live resources a call names, as the local cloud's state has them. */
export interface ResourceLookup {
  account: string;
  region: string;
  stack(nameOrArn: string): Tagged | undefined;
  group(name: string): Tagged | undefined;
  /** The group an instance belongs to, by instance id. */
  groupOfInstance(instanceId: string): Tagged | undefined;
  instance(instanceId: string): Tagged | undefined;
}

/**
 * aws:ResourceTag/<key> for each tag of a live resource, and the service's own
 * alias of it where it has one (autoscaling:ResourceTag, ec2:ResourceTag).
 */
export function resourceTagContext(
  tags: Tagged["tags"] | undefined,
  servicePrefix?: string,
): ContextValues {
  const out: ContextValues = {};
  for (const { key, value } of tags ?? []) {
    out[`aws:ResourceTag/${key}`] = value;
    if (servicePrefix) out[`${servicePrefix}:ResourceTag/${key}`] = value;
  }
  return out;
}

/** aws:RequestTag/<key> for each tag of a request, and aws:TagKeys. */
export function requestTagContext(tags: { key: string; value: string }[]): ContextValues {
  if (tags.length === 0) return {};
  const out: ContextValues = { "aws:TagKeys": tags.map((t) => t.key) };
  for (const { key, value } of tags) out[`aws:RequestTag/${key}`] = value;
  return out;
}

/** Key/Value pairs of a query list such as Tags.member.N.Key (CloudFormation, Auto Scaling) or Tag.N.Key (EC2). */
export function formTags(
  params: Map<string, string>,
  prefix: string,
): { key: string; value: string }[] {
  const tags: { key: string; value: string }[] = [];
  for (let n = 1; params.has(`${prefix}.${n}.Key`); n++) {
    tags.push({
      key: params.get(`${prefix}.${n}.Key`)!,
      value: params.get(`${prefix}.${n}.Value`) ?? "",
    });
  }
  return tags;
}

/** Every value of a query list such as ResourceId.N or InstanceIds.member.N. */
export function formList(params: Map<string, string>, prefix: string): string[] {
  const out: string[] = [];
  for (let n = 1; params.has(`${prefix}.${n}`); n++) out.push(params.get(`${prefix}.${n}`)!);
  return out;
}

const everywhere = (action: string): AuthorizationRequest[] => [
  { action, resource: "*", context: {} },
];

/** A stack's ARN; a stack that does not exist yet is arn:...:stack/<name>/*, as AWS names it in a denial. */
function stackRequest(
  action: string,
  params: Map<string, string>,
  lookup: ResourceLookup,
  extra: ContextValues = {},
): AuthorizationRequest[] {
  const name = params.get("StackName");
  if (!name) return everywhere(action);
  const live = lookup.stack(name);
  const resource =
    live?.arn ??
    (name.startsWith("arn:")
      ? name
      : `arn:aws:cloudformation:${lookup.region}:${lookup.account}:stack/${name}/*`);
  return [{ action, resource, context: { ...resourceTagContext(live?.tags), ...extra } }];
}

function groupRequest(
  action: string,
  group: Tagged | undefined,
  name: string,
  lookup: ResourceLookup,
  extra: ContextValues = {},
): AuthorizationRequest {
  return {
    action,
    resource:
      group?.arn ??
      `arn:aws:autoscaling:${lookup.region}:${lookup.account}:autoScalingGroup:*:autoScalingGroupName/${name}`,
    context: { ...resourceTagContext(group?.tags, "autoscaling"), ...extra },
  };
}

function cloudFormation(
  action: string,
  params: Map<string, string>,
  lookup: ResourceLookup,
): AuthorizationRequest[] {
  const iam = `cloudformation:${action}`;
  switch (action) {
    case "CreateChangeSet": {
      const tags = formTags(params, "Tags.member");
      return stackRequest(iam, params, lookup, {
        ...requestTagContext(tags),
        ...(params.get("ChangeSetName")
          ? { "cloudformation:ChangeSetName": params.get("ChangeSetName")! }
          : {}),
      });
    }
    case "CreateStack":
    case "UpdateStack":
      return stackRequest(iam, params, lookup, requestTagContext(formTags(params, "Tags.member")));
    case "ListStacks":
    case "ValidateTemplate":
    case "GetTemplateSummary":
      return params.get("StackName") ? stackRequest(iam, params, lookup) : everywhere(iam);
    default:
      // Every other action quorate uses names one stack (DescribeStacks without a name is "*").
      return stackRequest(iam, params, lookup);
  }
}

function autoScaling(
  action: string,
  params: Map<string, string>,
  lookup: ResourceLookup,
): AuthorizationRequest[] {
  const iam = `autoscaling:${action}`;
  switch (action) {
    case "CompleteLifecycleAction":
    case "RecordLifecycleActionHeartbeat":
    case "UpdateAutoScalingGroup":
    case "PutLifecycleHook":
    case "DeleteLifecycleHook":
    case "DeleteAutoScalingGroup": {
      const name = params.get("AutoScalingGroupName") ?? "";
      return [groupRequest(iam, lookup.group(name), name, lookup)];
    }
    case "SetInstanceHealth":
    case "TerminateInstanceInAutoScalingGroup": {
      const id = params.get("InstanceId") ?? "";
      const group = lookup.groupOfInstance(id);
      return [groupRequest(iam, group, group ? (group.arn.split("/").pop() ?? "*") : "*", lookup)];
    }
    case "CreateOrUpdateTags":
    case "DeleteTags": {
      // One request per group the tags go on, each with the tags asked for it.
      const byGroup = new Map<string, { key: string; value: string }[]>();
      for (let n = 1; params.has(`Tags.member.${n}.Key`); n++) {
        const name = params.get(`Tags.member.${n}.ResourceId`) ?? "";
        const list = byGroup.get(name) ?? [];
        list.push({
          key: params.get(`Tags.member.${n}.Key`)!,
          value: params.get(`Tags.member.${n}.Value`) ?? "",
        });
        byGroup.set(name, list);
      }
      return [...byGroup].map(([name, tags]) =>
        groupRequest(iam, lookup.group(name), name, lookup, requestTagContext(tags)),
      );
    }
    default:
      // Describe* have no resource-level permissions.
      return everywhere(iam);
  }
}

function ec2(
  action: string,
  params: Map<string, string>,
  lookup: ResourceLookup,
): AuthorizationRequest[] {
  const iam = `ec2:${action}`;
  if (action === "CreateTags" || action === "DeleteTags") {
    const tags = requestTagContext(formTags(params, "Tag"));
    return formList(params, "ResourceId").map((id) => {
      const instance = lookup.instance(id);
      return {
        action: iam,
        resource: instance?.arn ?? `arn:aws:ec2:${lookup.region}:${lookup.account}:instance/${id}`,
        context: { ...resourceTagContext(instance?.tags, "ec2"), ...tags },
      };
    });
  }
  return everywhere(iam);
}

/** The requests IAM evaluates for one query-protocol call (CloudFormation, Auto Scaling, EC2). */
export function queryAuthorization(
  service: string,
  action: string,
  params: Map<string, string>,
  lookup: ResourceLookup,
): AuthorizationRequest[] {
  if (service === "cloudformation") return cloudFormation(action, params, lookup);
  if (service === "autoscaling") return autoScaling(action, params, lookup);
  if (service === "ec2") return ec2(action, params, lookup);
  if (service === "sts" && action === "AssumeRole") {
    // The role is the resource; its trust policy is the local cloud's list of roles.
    const context: ContextValues = {};
    if (params.get("ExternalId")) context["sts:ExternalId"] = params.get("ExternalId")!;
    if (params.get("RoleSessionName"))
      context["sts:RoleSessionName"] = params.get("RoleSessionName")!;
    return [{ action: "sts:AssumeRole", resource: params.get("RoleArn") ?? "*", context }];
  }
  return everywhere(`${service}:${action}`);
}

/** S3's operations and the IAM action each needs (HeadObject is GetObject, parts are PutObject...). */
const S3_ACTIONS: Record<string, { action: string; on: "bucket" | "object" | "*" }> = {
  ListBuckets: { action: "s3:ListAllMyBuckets", on: "*" },
  CreateBucket: { action: "s3:CreateBucket", on: "bucket" },
  HeadBucket: { action: "s3:ListBucket", on: "bucket" },
  DeleteBucket: { action: "s3:DeleteBucket", on: "bucket" },
  GetBucketLocation: { action: "s3:GetBucketLocation", on: "bucket" },
  ListObjectsV2: { action: "s3:ListBucket", on: "bucket" },
  ListMultipartUploads: { action: "s3:ListBucketMultipartUploads", on: "bucket" },
  PutObject: { action: "s3:PutObject", on: "object" },
  CreateMultipartUpload: { action: "s3:PutObject", on: "object" },
  UploadPart: { action: "s3:PutObject", on: "object" },
  CompleteMultipartUpload: { action: "s3:PutObject", on: "object" },
  GetObject: { action: "s3:GetObject", on: "object" },
  HeadObject: { action: "s3:GetObject", on: "object" },
  DeleteObject: { action: "s3:DeleteObject", on: "object" },
  AbortMultipartUpload: { action: "s3:AbortMultipartUpload", on: "object" },
  ListParts: { action: "s3:ListMultipartUploadParts", on: "object" },
};

/** One S3 request as the local cloud routes it, and the KMS key it uses. */
export interface S3Request {
  operation: string;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  kms?: S3KmsUse;
}

/** The request IAM evaluates for one S3 operation. */
export function s3Authorization({
  operation,
  bucket,
  key,
  query,
}: S3Request): AuthorizationRequest {
  const entry = S3_ACTIONS[operation] ?? { action: `s3:${operation}`, on: "*" as const };
  const resource =
    entry.on === "*" || !bucket
      ? "*"
      : entry.on === "bucket"
        ? `arn:aws:s3:::${bucket}`
        : `arn:aws:s3:::${bucket}/${key ?? ""}`;
  const context: ContextValues = {};
  if (operation === "ListObjectsV2") context["s3:prefix"] = query.get("prefix") ?? "";
  return { action: entry.action, resource, context };
}

/**
 * The KMS key S3 uses for an object encrypted with SSE-KMS, and what for:
 * a data key to encrypt a new object (PutObject, CreateMultipartUpload), or
 * that data key decrypted to write more parts, assemble them or read it back.
 */
export interface S3KmsUse {
  action: "kms:GenerateDataKey" | "kms:Decrypt";
  /** As the request or the object carries it: key id, key ARN, alias name or alias ARN. */
  keyId: string;
}

const AWS_MANAGED_S3_KEY = /(^|:)alias\/aws\/s3$/;

/**
 * What IAM evaluates when S3 calls KMS on the caller's behalf for SSE-KMS: the
 * caller's own permission on the key, with kms:ViaService naming S3. Undefined
 * for the account's AWS managed key aws/s3, whose key policy already lets every
 * principal of the account use it through S3. The local cloud has no KMS: an
 * alias of a customer managed key stands for a key of its own, with the alias
 * in kms:RequestAlias (docs/references.md#sse-kms-backups-s3-calls-kms-as-the-caller).
 */
export function s3KmsAuthorization(
  use: S3KmsUse,
  region: string,
  account: string,
): AuthorizationRequest | undefined {
  if (AWS_MANAGED_S3_KEY.test(use.keyId)) return undefined;
  const context: ContextValues = {
    "kms:ViaService": `s3.${region}.amazonaws.com`,
    "kms:CallerAccount": account,
  };
  if (use.keyId.startsWith("arn:") && !use.keyId.includes(":alias/")) {
    return { action: use.action, resource: use.keyId, context };
  }
  const alias = /(?:^|:)(alias\/.+)$/.exec(use.keyId)?.[1];
  if (alias) context["kms:RequestAlias"] = alias;
  const keyId = alias ? keyIdOfAlias(alias) : use.keyId;
  return { action: use.action, resource: `arn:aws:kms:${region}:${account}:key/${keyId}`, context };
}

/** A stable key id in the shape of KMS's, for an alias the local cloud has no key behind. */
function keyIdOfAlias(alias: string): string {
  const hex = createHash("sha256").update(alias).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
