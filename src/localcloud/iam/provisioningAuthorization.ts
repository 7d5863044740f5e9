// What CloudFormation calls, with the permissions of the principal that started
// the stack operation, to create, update or delete each resource type quorate's
// template uses. A stack without a service role (quorate passes none) acts as
// its caller, so the caller's policy must allow these. The lists follow the
// resource types' handler permissions in the CloudFormation registry, cut to
// what applies to the properties quorate renders. Pure.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html
// https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html
import type { JsonObject } from "../state/model.js";
import {
  type AuthorizationRequest,
  type ContextValues,
  requestTagContext,
  resourceTagContext,
} from "./requestAuthorization.js";

export type ProvisioningMode = "create" | "update" | "delete";

export interface ProvisionedResource {
  type: string;
  mode: ProvisioningMode;
  account: string;
  region: string;
  stackName: string;
  logicalId: string;
  /** The live physical id (update, delete); absent on create. */
  physicalId?: string;
  properties: JsonObject;
  /** ARNs of the stack's IAM roles: what an instance profile or a group's instances are given (iam:PassRole). */
  stackRoleArns: string[];
  /**
   * The stack's tags. CloudFormation puts them on every resource it creates, so
   * a create asks with them as aws:RequestTag, and every later call on the
   * resource as aws:ResourceTag: what lets a policy keep one owner's quorate
   * off another owner's resources.
   */
  tags: { key: string; value: string }[];
}

/** A call on a resource that exists (and carries the stack's tags). */
const on = (
  r: ProvisionedResource,
  action: string,
  resource: string,
  context: ContextValues = {},
): AuthorizationRequest => ({
  action,
  resource,
  context: { ...resourceTagContext(r.tags), ...context },
});

/** The call that creates a resource, with the tags it is created with. */
const creating = (
  r: ProvisionedResource,
  action: string,
  resource: string,
): AuthorizationRequest => ({
  action,
  resource,
  context: requestTagContext(r.tags),
});

/** A generated name is <stack>-<logical id>-<suffix>: before it exists, the ARN ends in a wildcard. */
function physicalName(r: ProvisionedResource, nameProperty: string): string {
  const named = r.properties[nameProperty];
  if (typeof named === "string") return named;
  return r.physicalId ?? `${r.stackName}-${r.logicalId}-*`;
}

function passRoles(r: ProvisionedResource): AuthorizationRequest[] {
  return r.stackRoleArns.map((arn) =>
    on(r, "iam:PassRole", arn, { "iam:PassedToService": "ec2.amazonaws.com" }),
  );
}

function role(r: ProvisionedResource): AuthorizationRequest[] {
  const arn = `arn:aws:iam::${r.account}:role/${physicalName(r, "RoleName")}`;
  const inline = Array.isArray(r.properties.Policies) && r.properties.Policies.length > 0;
  if (r.mode === "create")
    return [
      creating(r, "iam:CreateRole", arn),
      ...(inline ? [on(r, "iam:PutRolePolicy", arn)] : []),
    ];
  if (r.mode === "update")
    return [
      on(r, "iam:UpdateAssumeRolePolicy", arn),
      on(r, "iam:PutRolePolicy", arn),
      on(r, "iam:DeleteRolePolicy", arn),
    ];
  return [...(inline ? [on(r, "iam:DeleteRolePolicy", arn)] : []), on(r, "iam:DeleteRole", arn)];
}

function instanceProfile(r: ProvisionedResource): AuthorizationRequest[] {
  const arn = `arn:aws:iam::${r.account}:instance-profile/${physicalName(r, "InstanceProfileName")}`;
  if (r.mode === "create")
    return [
      creating(r, "iam:CreateInstanceProfile", arn),
      on(r, "iam:AddRoleToInstanceProfile", arn),
      ...passRoles(r),
    ];
  if (r.mode === "update")
    return [
      on(r, "iam:AddRoleToInstanceProfile", arn),
      on(r, "iam:RemoveRoleFromInstanceProfile", arn),
      ...passRoles(r),
    ];
  return [on(r, "iam:RemoveRoleFromInstanceProfile", arn), on(r, "iam:DeleteInstanceProfile", arn)];
}

function launchTemplate(r: ProvisionedResource): AuthorizationRequest[] {
  const arn = `arn:aws:ec2:${r.region}:${r.account}:launch-template/${r.physicalId ?? "*"}`;
  if (r.mode === "create") return [creating(r, "ec2:CreateLaunchTemplate", arn)];
  if (r.mode === "update")
    return [on(r, "ec2:CreateLaunchTemplateVersion", arn), on(r, "ec2:ModifyLaunchTemplate", arn)];
  return [on(r, "ec2:DeleteLaunchTemplate", arn)];
}

function securityGroup(r: ProvisionedResource): AuthorizationRequest[] {
  const arn = `arn:aws:ec2:${r.region}:${r.account}:security-group/${r.physicalId ?? "*"}`;
  const rules = Array.isArray(r.properties.SecurityGroupIngress)
    ? [on(r, "ec2:AuthorizeSecurityGroupIngress", arn)]
    : [];
  // Tags go on with the create (tag-on-create asks with the request's tags), later onto the group as it is.
  const tag = r.mode === "create" ? creating : on;
  const tags = Array.isArray(r.properties.Tags) ? [tag(r, "ec2:CreateTags", arn)] : [];
  if (r.mode === "create") return [creating(r, "ec2:CreateSecurityGroup", arn), ...rules, ...tags];
  if (r.mode === "update") return [...rules, on(r, "ec2:RevokeSecurityGroupIngress", arn), ...tags];
  return [on(r, "ec2:DeleteSecurityGroup", arn)];
}

function securityGroupIngress(r: ProvisionedResource): AuthorizationRequest[] {
  const group = typeof r.properties.GroupId === "string" ? r.properties.GroupId : "*";
  const arn = `arn:aws:ec2:${r.region}:${r.account}:security-group/${group}`;
  if (r.mode === "create") return [on(r, "ec2:AuthorizeSecurityGroupIngress", arn)];
  if (r.mode === "update")
    return [
      on(r, "ec2:AuthorizeSecurityGroupIngress", arn),
      on(r, "ec2:RevokeSecurityGroupIngress", arn),
    ];
  // A deleted rule's properties are not passed on delete: its group is in the physical resource.
  return [
    on(
      r,
      "ec2:RevokeSecurityGroupIngress",
      `arn:aws:ec2:${r.region}:${r.account}:security-group/*`,
    ),
  ];
}

function autoScalingGroup(r: ProvisionedResource): AuthorizationRequest[] {
  const name = physicalName(r, "AutoScalingGroupName");
  const arn = `arn:aws:autoscaling:${r.region}:${r.account}:autoScalingGroup:*:autoScalingGroupName/${name}`;
  const hooks = Array.isArray(r.properties.LifecycleHookSpecificationList)
    ? [on(r, "autoscaling:PutLifecycleHook", arn)]
    : [];
  const tags = Array.isArray(r.properties.Tags)
    ? [(r.mode === "create" ? creating : on)(r, "autoscaling:CreateOrUpdateTags", arn)]
    : [];
  // A group launches from its launch template with its caller's ec2:RunInstances, and passes the instance role.
  const launch = [
    creating(r, "ec2:RunInstances", `arn:aws:ec2:${r.region}:${r.account}:instance/*`),
    ...passRoles(r),
  ];
  if (r.mode === "create")
    return [creating(r, "autoscaling:CreateAutoScalingGroup", arn), ...hooks, ...tags, ...launch];
  if (r.mode === "update")
    return [on(r, "autoscaling:UpdateAutoScalingGroup", arn), ...hooks, ...tags, ...launch];
  return [
    on(r, "autoscaling:UpdateAutoScalingGroup", arn),
    on(r, "autoscaling:DeleteAutoScalingGroup", arn),
  ];
}

function lifecycleHook(r: ProvisionedResource): AuthorizationRequest[] {
  const group =
    typeof r.properties.AutoScalingGroupName === "string" ? r.properties.AutoScalingGroupName : "*";
  const arn = `arn:aws:autoscaling:${r.region}:${r.account}:autoScalingGroup:*:autoScalingGroupName/${group}`;
  return [
    on(
      r,
      r.mode === "delete" ? "autoscaling:DeleteLifecycleHook" : "autoscaling:PutLifecycleHook",
      arn,
    ),
  ];
}

const BY_TYPE: Record<string, (r: ProvisionedResource) => AuthorizationRequest[]> = {
  "AWS::IAM::Role": role,
  "AWS::IAM::InstanceProfile": instanceProfile,
  "AWS::EC2::LaunchTemplate": launchTemplate,
  "AWS::EC2::SecurityGroup": securityGroup,
  "AWS::EC2::SecurityGroupIngress": securityGroupIngress,
  "AWS::AutoScaling::AutoScalingGroup": autoScalingGroup,
  "AWS::AutoScaling::LifecycleHook": lifecycleHook,
};

/** The requests IAM evaluates before CloudFormation provisions one resource; none for types quorate does not render. */
export function provisioningAuthorization(resource: ProvisionedResource): AuthorizationRequest[] {
  return BY_TYPE[resource.type]?.(resource) ?? [];
}
