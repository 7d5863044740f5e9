// Everything the local cloud knows, as plain JSON: what is persisted under the
// data directory and restored after a restart. Times are epoch milliseconds;
// every timer is a deadline, so a restarted local cloud carries on where it was.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

// --- CloudFormation ---------------------------------------------------------

export type StackStatus =
  | "REVIEW_IN_PROGRESS"
  | "CREATE_IN_PROGRESS"
  | "CREATE_COMPLETE"
  | "CREATE_FAILED"
  | "ROLLBACK_IN_PROGRESS"
  | "ROLLBACK_COMPLETE"
  | "ROLLBACK_FAILED"
  | "UPDATE_IN_PROGRESS"
  | "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
  | "UPDATE_COMPLETE"
  | "UPDATE_ROLLBACK_IN_PROGRESS"
  | "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
  | "UPDATE_ROLLBACK_COMPLETE"
  | "UPDATE_ROLLBACK_FAILED"
  | "DELETE_IN_PROGRESS"
  | "DELETE_COMPLETE"
  | "DELETE_FAILED";

export type ResourceStatus =
  | "CREATE_IN_PROGRESS"
  | "CREATE_COMPLETE"
  | "CREATE_FAILED"
  | "UPDATE_IN_PROGRESS"
  | "UPDATE_COMPLETE"
  | "UPDATE_FAILED"
  | "DELETE_IN_PROGRESS"
  | "DELETE_COMPLETE"
  | "DELETE_FAILED"
  | "DELETE_SKIPPED";

export interface Tag {
  Key: string;
  Value: string;
}

/** A resource as the template declares it (Type, Properties, policies...). */
export interface TemplateResource {
  Type: string;
  Properties?: JsonObject;
  DependsOn?: string | string[];
  CreationPolicy?: JsonObject;
  UpdatePolicy?: JsonObject;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  Metadata?: JsonObject;
  Condition?: string;
}

export interface ResourceRecord {
  logicalId: string;
  type: string;
  physicalId?: string;
  status: ResourceStatus;
  statusReason?: string;
  updatedAt: number;
  /** The template entry as last applied. */
  definition: TemplateResource;
  /** Properties with every intrinsic resolved, as last applied. */
  properties: JsonObject;
  /** Fn::GetAtt values. */
  attributes: Record<string, string>;
}

export interface StackEventRecord {
  eventId: string;
  logicalId: string;
  physicalId?: string;
  resourceType: string;
  timestamp: number;
  status: string;
  reason?: string;
  properties?: string;
  clientRequestToken?: string;
}

export type ChangeSetStatus =
  | "CREATE_PENDING"
  | "CREATE_IN_PROGRESS"
  | "CREATE_COMPLETE"
  | "FAILED";
export type ChangeSetExecutionStatus =
  | "UNAVAILABLE"
  | "AVAILABLE"
  | "EXECUTE_IN_PROGRESS"
  | "EXECUTE_COMPLETE"
  | "EXECUTE_FAILED"
  | "OBSOLETE";

/** One entry of DescribeChangeSet's Changes, in the SDK's shape (Type "Resource"). */
export interface ResourceChangeRecord {
  Action: "Add" | "Modify" | "Remove";
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceType: string;
  Replacement?: "True" | "False" | "Conditional";
  Scope: string[];
  Details: ChangeDetailRecord[];
  BeforeContext?: string;
  AfterContext?: string;
}

export interface ChangeDetailRecord {
  Target: {
    Attribute: string;
    Name?: string;
    Path?: string;
    RequiresRecreation?: "Never" | "Conditionally" | "Always";
    AttributeChangeType?: "Add" | "Remove" | "Modify";
    BeforeValue?: string;
    AfterValue?: string;
  };
  Evaluation: "Static" | "Dynamic";
  ChangeSource: "DirectModification" | "ResourceAttribute" | "ResourceReference";
  CausingEntity?: string;
}

export interface ChangeSetRecord {
  id: string;
  name: string;
  type: "CREATE" | "UPDATE";
  status: ChangeSetStatus;
  statusReason?: string;
  executionStatus: ChangeSetExecutionStatus;
  createdAt: number;
  /** When the status moves on (CREATE_PENDING -> CREATE_IN_PROGRESS -> final). */
  readyAt?: number;
  /** The status it ends in once computed. */
  outcome: { status: "CREATE_COMPLETE" | "FAILED"; reason?: string };
  description?: string;
  templateBody: string;
  parameters: { key: string; value: string }[];
  tags: Tag[];
  capabilities: string[];
  changes: ResourceChangeRecord[];
  /** CreateChangeSet's ClientToken: the same request sent again gets the same change set. */
  clientToken?: string;
  /** Executed change sets stay describable but are no longer listed. */
  executed?: boolean;
}

export type OperationKind = "CREATE" | "UPDATE" | "DELETE" | "ROLLBACK" | "UPDATE_ROLLBACK";

export type StepVerb =
  /** Create the resource (CREATE, an Add in an UPDATE, or the new copy of a replacement). */
  | "create"
  /** Update the resource in place to the new template's properties. */
  | "update"
  /** Roll an in-place update back to the properties saved before the update. */
  | "revert"
  /** Make the saved physical resource current again (after a replacement). */
  | "restore"
  /** Delete the resource (or, with physicalId, one old physical copy of it). */
  | "delete";

export type StepStatus = "pending" | "delaying" | "running" | "done" | "failed";

export interface OperationStep {
  logicalId: string;
  verb: StepVerb;
  status: StepStatus;
  /** True when a "create" makes the replacement copy of an existing resource. */
  replacement?: boolean;
  /** For a delete of a physical copy other than the current one. */
  physicalId?: string;
  /** End of the operation delay that lets the IN_PROGRESS status be seen. */
  readyAt?: number;
  /** The task state of a long-running step (group creation, a rolling update...): plain JSON. */
  task?: unknown;
  wakeAt?: number;
  /** The operation's principal may provision this resource (evaluated once, with --iam-policy). */
  authorized?: boolean;
}

export interface StackSnapshot {
  templateBody?: string;
  description?: string;
  parameters: { key: string; value: string }[];
  tags: Tag[];
  resources: Record<string, ResourceRecord>;
  outputs: OutputRecord[];
}

export interface StackOperation {
  kind: OperationKind;
  /** A failed rollback stops here until ContinueUpdateRollback (or DeleteStack). */
  halted?: boolean;
  startedAt: number;
  changeSetId?: string;
  clientRequestToken?: string;
  stage: "main" | "cleanup";
  steps: OperationStep[];
  cleanupSteps: OperationStep[];
  /** Logical ids whose step failed. */
  failed: string[];
  cancelRequested?: boolean;
  /** For UPDATE (and its rollback): the stack as it was before the update. */
  previous?: StackSnapshot;
  /** Physical copies a replacement left behind, deleted in the cleanup stage. */
  replaced?: { logicalId: string; physicalId: string; type: string; properties: JsonObject }[];
  /** Resources a rolled-back update created, deleted in the rollback's cleanup stage. */
  created?: { logicalId: string; physicalId: string; type: string; properties: JsonObject }[];
  /** DeleteStack's RetainResources. */
  retain?: string[];
  /**
   * Whose permissions CloudFormation provisions with (the caller of
   * ExecuteChangeSet or DeleteStack), when the local cloud enforces a policy.
   * Rollbacks carry none: they are not evaluated.
   */
  principal?: string;
}

export interface OutputRecord {
  key: string;
  value: string;
  description?: string;
  exportName?: string;
}

export interface StackRecord {
  stackId: string;
  stackName: string;
  region: string;
  status: StackStatus;
  statusReason?: string;
  createdAt: number;
  updatedAt?: number;
  deletedAt?: number;
  description?: string;
  templateBody?: string;
  parameters: { key: string; value: string }[];
  tags: Tag[];
  capabilities: string[];
  terminationProtection: boolean;
  disableRollback: boolean;
  lastChangeSetId?: string;
  resources: Record<string, ResourceRecord>;
  outputs: OutputRecord[];
  events: StackEventRecord[];
  changeSets: ChangeSetRecord[];
  operation?: StackOperation;
  /** ClientRequestTokens already used on this stack, and for which action (the newest few). */
  clientTokens?: { token: string; action: string }[];
}

// --- EC2 --------------------------------------------------------------------

export interface LaunchTemplateVersion {
  versionNumber: number;
  createdAt: number;
  /** LaunchTemplateData as resolved (UserData base64, ImageId, MetadataOptions...). */
  data: JsonObject;
}

export interface LaunchTemplateRecord {
  id: string;
  name: string;
  owner: string;
  versions: LaunchTemplateVersion[];
  defaultVersion: number;
  latestVersion: number;
}

export type InstanceState = "pending" | "running" | "shutting-down" | "terminated";

export interface RuntimeRecordJson {
  instanceId: string;
  privateIp: string;
  phase: string;
  pid?: number;
  etcdStarted: boolean;
  signal?: "SUCCESS" | "FAILURE";
}

export interface InstanceRecord {
  instanceId: string;
  reservationId: string;
  /** The stack that owns it (through its group); its file holds the instance. */
  owner: string;
  groupName?: string;
  imageId: string;
  instanceType: string;
  launchTemplate: { id: string; name: string; version: number };
  privateIp: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  launchTime: number;
  state: InstanceState;
  stateReason?: string;
  /** Tags in insertion order. */
  tags: Tag[];
  userData: string;
  /** The instance profile its launch template named, as it was at launch. */
  iamInstanceProfile?: { arn: string; id: string };
  metadataTags: boolean;
  /** The runtime's last reported phase and detail. */
  phase?: string;
  phaseDetail?: string;
  runtime?: RuntimeRecordJson;
  /** EC2 status check failed (fault injection). */
  impaired?: boolean;
  terminatedAt?: number;
}

// --- Auto Scaling -----------------------------------------------------------

export type LifecycleState =
  | "Pending"
  | "Pending:Wait"
  | "Pending:Proceed"
  | "InService"
  | "Terminating"
  | "Terminating:Wait"
  | "Terminating:Proceed"
  | "Terminated";

export type LifecycleTransition =
  | "autoscaling:EC2_INSTANCE_LAUNCHING"
  | "autoscaling:EC2_INSTANCE_TERMINATING";

export interface LifecycleHookRecord {
  name: string;
  transition: LifecycleTransition;
  heartbeatTimeoutSeconds: number;
  defaultResult: "CONTINUE" | "ABANDON";
  notificationMetadata?: string;
  /** Declared in the group's LifecycleHookSpecificationList, or a separate AWS::AutoScaling::LifecycleHook. */
  source: "group" | "resource";
}

export interface LifecycleActionRecord {
  hookName: string;
  token: string;
  /** Timeout deadline; RecordLifecycleActionHeartbeat moves it. */
  deadline: number;
  /** Hard limit: 100 x HeartbeatTimeout or 48 h, whichever is smaller. */
  globalDeadline: number;
  result?: "CONTINUE" | "ABANDON";
}

export interface GroupInstanceRecord {
  instanceId: string;
  lifecycleState: LifecycleState;
  healthStatus: "Healthy" | "Unhealthy";
  launchTemplateVersion: number;
  availabilityZone: string;
  protectedFromScaleIn: boolean;
  actions?: LifecycleActionRecord[];
  /** While a terminate is in flight in the runtime. */
  terminating?: boolean;
}

export interface GroupTag {
  Key: string;
  Value: string;
  PropagateAtLaunch: boolean;
}

export interface GroupRecord {
  name: string;
  arn: string;
  owner: string;
  logicalId: string;
  createdAt: number;
  launchTemplate: { id: string; name: string; version: string };
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  vpcZoneIdentifier: string[];
  availabilityZones: string[];
  healthCheckType: string;
  healthCheckGracePeriod: number;
  tags: GroupTag[];
  /**
   * The tags CloudFormation declared for the group last (the template's and
   * the stack's): an update removes only those it no longer declares, so tags
   * written through CreateOrUpdateTags stay (autoscaling/groupTags.ts).
   */
  declaredTags?: GroupTag[];
  hooks: LifecycleHookRecord[];
  suspended: { name: string; reason: string }[];
  instances: GroupInstanceRecord[];
  /** Set while CloudFormation drives the group (rolling update, deletion): no capacity maintenance. */
  heldBy?: "rolling-update" | "deletion";
  /** Round-robin position for spreading launches across subnets. */
  nextSubnet: number;
  /** The last launch that failed (a scaling activity's status reason), and when to try again. */
  launchFailure?: { message: string; at: number; retryAt: number };
}

// --- Other physical resources ------------------------------------------------

/** Resources the local cloud keeps no API for (security groups, IAM): only their properties. */
export interface PlainResourceRecord {
  physicalId: string;
  type: string;
  owner: string;
  properties: JsonObject;
  attributes: Record<string, string>;
  /** IAM's unique id where Fn::GetAtt does not give it (an instance profile's AIPA...). */
  uniqueId?: string;
}
