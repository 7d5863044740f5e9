// The resource types the local cloud's stack engine implements, and the facts
// about them that change sets need (from the CloudFormation resource
// specification in @aws-cdk/aws-service-spec).

export const SUPPORTED_TYPES: ReadonlySet<string> = new Set([
  "AWS::EC2::SecurityGroup",
  "AWS::EC2::SecurityGroupIngress",
  "AWS::IAM::Role",
  "AWS::IAM::InstanceProfile",
  "AWS::EC2::LaunchTemplate",
  "AWS::AutoScaling::AutoScalingGroup",
  "AWS::AutoScaling::LifecycleHook",
]);

/**
 * Types that carry stack-level tags (the spec's tagInformation): a change of
 * stack tags modifies them, with Scope Tags. A launch template has none: its
 * tags live in TagSpecifications, so stack tags never make a new version.
 */
export const STACK_TAGGABLE: ReadonlySet<string> = new Set([
  "AWS::EC2::SecurityGroup",
  "AWS::IAM::Role",
  "AWS::AutoScaling::AutoScalingGroup",
]);

/**
 * Attributes that change when a resource is updated in place (all of them
 * change when it is replaced): an update of a launch template makes a new
 * version, which is how a rolling update reaches the group.
 */
export const ATTRIBUTES_CHANGED_BY_UPDATE: Readonly<Record<string, readonly string[]>> = {
  "AWS::EC2::LaunchTemplate": ["LatestVersionNumber", "DefaultVersionNumber"],
};

/**
 * Each type's primary identifier (the resource schema's primaryIdentifier),
 * which GetTemplateSummary gives as ResourceIdentifiers; a unit test checks
 * the table against @aws-cdk/aws-service-spec.
 */
export const PRIMARY_IDENTIFIERS: Readonly<Record<string, readonly string[]>> = {
  "AWS::EC2::SecurityGroup": ["Id"],
  "AWS::EC2::SecurityGroupIngress": ["Id"],
  "AWS::IAM::Role": ["RoleName"],
  "AWS::IAM::InstanceProfile": ["InstanceProfileName"],
  "AWS::EC2::LaunchTemplate": ["LaunchTemplateId"],
  "AWS::AutoScaling::AutoScalingGroup": ["AutoScalingGroupName"],
  "AWS::AutoScaling::LifecycleHook": ["AutoScalingGroupName", "LifecycleHookName"],
};
