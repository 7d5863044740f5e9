// The plan the golden tests show: six clusters, each with the DescribeChangeSet
// Changes (IncludePropertyValues) that CloudFormation returns for its change, per
// the API reference (ResourceChange, ResourceChangeDetail, ResourceTargetDefinition):
// a launch template change shows as a Modify of the template plus a Modify of the
// group whose LaunchTemplate.Version is {{changeSet:KNOWN_AFTER_APPLY}}, listed once
// as a Dynamic DirectModification and once as a Static ResourceAttribute caused by
// EtcdLaunchTemplate.LatestVersionNumber.
import type { ChangeSetChange, ChangeSetDetail } from "../../src/plan/changeSet.js";
import {
  type ChangeSetPlanInput,
  planFromChangeSet,
  planFromTemplates,
} from "../../src/plan/clusterPlan.js";
import { type LiveDetail, withLiveDetail } from "../../src/plan/liveDetail.js";
import { KNOWN_AFTER_APPLY, type Plan } from "../../src/plan/model.js";
import { parseRolloutHistory } from "../../src/plan/rolloutHistory.js";
import type { CfnTemplate } from "../../src/plan/template.js";
import type { UpdateBehaviourLookup } from "../../src/plan/updateBehaviour.js";
import {
  context,
  etcdTemplate,
  facts,
  type Physical,
  physicalOf,
  resolve,
  type StackFacts,
} from "./stack.js";

export interface Scenario {
  title: string;
  before?: StackFacts;
  after: StackFacts;
  /** The change set's Changes, given the templates and physical ids before and after. */
  changes(t: Templates): ChangeSetChange[];
}

interface Templates {
  before: CfnTemplate;
  after: CfnTemplate;
  physicalBefore: Physical;
  physicalAfter: Physical;
}

function detail(
  name: string,
  path: string,
  before: string | undefined,
  after: string | undefined,
  more: Partial<ChangeSetDetail> & { recreation?: string; attribute?: string } = {},
): ChangeSetDetail {
  const { recreation = "Never", attribute = "Properties", ...rest } = more;
  return {
    Target: {
      Attribute: attribute,
      Name: name,
      RequiresRecreation: recreation,
      Path: path,
      BeforeValue: before,
      AfterValue: after,
      AttributeChangeType: "Modify",
    },
    Evaluation: "Static",
    ChangeSource: "DirectModification",
    ...rest,
  };
}

function modify(
  t: Templates,
  logicalId: string,
  type: string,
  replacement: "True" | "False" | "Conditional",
  scope: string[],
  details: ChangeSetDetail[],
): ChangeSetChange {
  return {
    Type: "Resource",
    ResourceChange: {
      Action: "Modify",
      LogicalResourceId: logicalId,
      PhysicalResourceId: t.physicalBefore[logicalId],
      ResourceType: type,
      Replacement: replacement,
      Scope: scope,
      Details: details,
      BeforeContext: context(t.before, logicalId, t.physicalBefore),
      AfterContext: context(t.after, logicalId, t.physicalAfter),
      ...(replacement === "True" ? { PolicyAction: "ReplaceAndDelete" } : {}),
    },
  };
}

/** The group's part of a launch template change: a new version, known after apply. */
function newVersion(t: Templates): ChangeSetChange {
  const path = "/Properties/LaunchTemplate/Version";
  return modify(
    t,
    "EtcdGroup",
    "AWS::AutoScaling::AutoScalingGroup",
    "False",
    ["Properties"],
    [
      detail("LaunchTemplate", path, "1", KNOWN_AFTER_APPLY, { Evaluation: "Dynamic" }),
      detail("LaunchTemplate", path, "1", KNOWN_AFTER_APPLY, {
        ChangeSource: "ResourceAttribute",
        CausingEntity: "EtcdLaunchTemplate.LatestVersionNumber",
      }),
    ],
  );
}

function launchTemplateData(t: Templates, field: string, before: string, after: string) {
  return modify(
    t,
    "EtcdLaunchTemplate",
    "AWS::EC2::LaunchTemplate",
    "False",
    ["Properties"],
    [detail("LaunchTemplateData", `/Properties/LaunchTemplateData/${field}`, before, after)],
  );
}

const prod = (cluster: string, overrides: Partial<StackFacts> = {}) =>
  facts(cluster, {
    size: 5,
    instanceType: "m6i.large",
    signalTimeout: "PT15M",
    hookTimeoutSeconds: 900,
    ...overrides,
  });

export const SCENARIOS: Scenario[] = [
  {
    title: "image upgrade: rolling replacement of 3 members",
    before: facts("images"),
    after: facts("images", { imageId: "ami-0f1a2b3c4d5e60002" }),
    changes: (t) => [
      launchTemplateData(t, "ImageId", "ami-0f1a2b3c4d5e60001", "ami-0f1a2b3c4d5e60002"),
      newVersion(t),
    ],
  },
  {
    title: "instance-type change on a 5-member cluster",
    before: prod("compute"),
    after: prod("compute", { instanceType: "m6i.xlarge" }),
    changes: (t) => [
      launchTemplateData(t, "InstanceType", "m6i.large", "m6i.xlarge"),
      newVersion(t),
    ],
  },
  {
    title: "size change from 3 to 5",
    before: facts("grow"),
    after: facts("grow", { size: 5 }),
    changes: (t) => [
      modify(
        t,
        "EtcdGroup",
        "AWS::AutoScaling::AutoScalingGroup",
        "False",
        ["Properties", "CreationPolicy", "UpdatePolicy"],
        [
          detail("MinSize", "/Properties/MinSize", "3", "5"),
          detail("MaxSize", "/Properties/MaxSize", "3", "5"),
          detail("DesiredCapacity", "/Properties/DesiredCapacity", "3", "5"),
          // CloudFormation names no property for policy attributes.
          {
            Target: { Attribute: "CreationPolicy", RequiresRecreation: "Never" },
            Evaluation: "Static",
            ChangeSource: "DirectModification",
          },
          {
            Target: { Attribute: "UpdatePolicy", RequiresRecreation: "Never" },
            Evaluation: "Static",
            ChangeSource: "DirectModification",
          },
        ],
      ),
    ],
  },
  {
    title: "a new cluster",
    after: facts("fresh"),
    changes: (t) =>
      Object.entries(t.after.Resources ?? {}).map(([logicalId, resource]) => ({
        Type: "Resource",
        ResourceChange: {
          Action: "Add",
          LogicalResourceId: logicalId,
          ResourceType: resource.Type,
          Scope: [],
          Details: [],
          AfterContext: JSON.stringify({ Properties: resolve(resource.Properties, {}) }),
        },
      })),
  },
  {
    title: "a change that replaces the group",
    before: facts("rename"),
    after: facts("rename", { groupName: "etcd-rename-v2" }),
    changes: (t) => [
      modify(
        t,
        "EtcdGroup",
        "AWS::AutoScaling::AutoScalingGroup",
        "True",
        ["Properties"],
        [
          detail(
            "AutoScalingGroupName",
            "/Properties/AutoScalingGroupName",
            "quorate-rename-etcd",
            "etcd-rename-v2",
            { recreation: "Always" },
          ),
        ],
      ),
    ],
  },
  {
    title: 'no-op: the change set failed with "didn\'t contain changes"',
    before: facts("steady"),
    after: facts("steady"),
    changes: () => [],
  },
];

function templates(s: Scenario): Templates {
  const after = etcdTemplate(s.after);
  const before = s.before ? etcdTemplate(s.before) : after;
  const physicalBefore = s.before ? physicalOf(s.before) : {};
  // After the update the launch template has a version not known yet; the rest keep their ids.
  const physicalAfter = s.before
    ? { ...physicalOf(s.after), "EtcdLaunchTemplate.LatestVersionNumber": undefined }
    : {};
  return { before, after, physicalBefore, physicalAfter };
}

export function changeSetInputs(): ChangeSetPlanInput[] {
  return SCENARIOS.map((s) => {
    const t = templates(s);
    const input: ChangeSetPlanInput = {
      cluster: s.after.cluster,
      stackName: s.after.stackName,
      stackExists: s.before !== undefined,
      changes: s.changes(t),
      desired: { template: t.after },
    };
    if (s.before) input.live = { template: t.before };
    return input;
  });
}

/**
 * What a live plan reads besides the change set: the images cluster has three
 * members (one leads, one is a learner) and two recorded rollouts; compute has
 * no recorded rollout yet.
 */
export const LIVE_DETAIL: Record<string, LiveDetail> = {
  images: {
    members: {
      members: [
        {
          instanceId: "i-0a1b2c3d4e5f60001",
          name: "i-0a1b2c3d4e5f60001",
          id: "8e9e05c52164694d",
          leader: false,
          learner: false,
          healthy: true,
          version: "3.5.17",
        },
        {
          instanceId: "i-0a1b2c3d4e5f60002",
          name: "i-0a1b2c3d4e5f60002",
          id: "91bc3c398fb3c146",
          leader: true,
          learner: false,
          healthy: true,
          version: "3.5.17",
        },
        {
          instanceId: "i-0a1b2c3d4e5f60003",
          name: "i-0a1b2c3d4e5f60003",
          id: "fd422379fda50e48",
          leader: false,
          learner: true,
          healthy: true,
          version: "3.5.17",
        },
      ],
    },
    history: parseRolloutHistory("20240506T1213Z=95/102/98 20240501T0840Z=91/99/130"),
  },
  compute: {
    members: { members: [], error: "no member answered at 10.0.1.5:2379" },
    history: { rollouts: [] },
  },
};

export function changeSetPlan(): Plan {
  return {
    source: "change-set",
    revision: "4e1c0ffee",
    clusters: changeSetInputs().map((input) => {
      const plan = planFromChangeSet(input);
      const detail = LIVE_DETAIL[plan.cluster];
      return detail ? withLiveDetail(plan, detail) : plan;
    }),
  };
}

export function offlinePlan(updateBehaviour: UpdateBehaviourLookup): Plan {
  return {
    source: "offline",
    revision: "4e1c0ffee",
    baseRevision: "origin/main",
    clusters: SCENARIOS.map((s) =>
      planFromTemplates({
        cluster: s.after.cluster,
        stackName: s.after.stackName,
        before: s.before ? etcdTemplate(s.before) : undefined,
        after: etcdTemplate(s.after),
        updateBehaviour,
      }),
    ),
  };
}
