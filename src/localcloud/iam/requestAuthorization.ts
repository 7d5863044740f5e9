// What IAM evaluates for one call the local cloud serves: the IAM action, the
// resource ARN and the condition keys AWS would use for it. Pure: the live
// resources (their ARNs and tags) come in through a lookup. Actions without
// resource-level permissions are evaluated on "*", as AWS does.
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudformation.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2autoscaling.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html

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

/** The request IAM evaluates for one S3 operation. */
export function s3Authorization(
  operation: string,
  bucket: string | undefined,
  key: string | undefined,
  query: URLSearchParams,
): AuthorizationRequest {
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
