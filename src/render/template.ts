// ClusterSpec -> the cluster's CloudFormation stack. Pure and deterministic:
// the same spec and image give the same bytes, whose sha256 is the template
// hash that quorate compares against the live stack's tag.
import type { ClusterSpec } from "../manifest/types.js";
import { autoScalingGroupResources } from "./autoScalingGroup.js";
import { canonicalJson, sha256Hex } from "./canonicalJson.js";
import { type CfnTag, type CfnTemplate, getAtt, ref } from "./cfnTemplate.js";
import { LOGICAL_ID, STACK_TAG } from "./contract.js";
import { instanceRoleResources } from "./instanceRole.js";
import { launchTemplateResources } from "./launchTemplate.js";
import { securityGroupResources } from "./securityGroup.js";

export interface RenderedStack {
  stackName: string;
  template: CfnTemplate;
  /** canonicalJson(template) */
  templateBody: string;
  templateSha256: string;
  /** Stack tags except the revision tag, sorted by key. */
  tags: CfnTag[];
  terminationProtection: boolean;
}

export function renderTemplate(spec: ClusterSpec, image: { imageId: string }): CfnTemplate {
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    // No file path here: moving a manifest to another file must not change the stack.
    Description: `etcd cluster ${spec.name} (${spec.size} members), managed by quorate: change its manifest in git, not this stack`,
    // Only what is fixed by the spec: nothing here may differ between two
    // renders of the same manifest. Tags and termination protection are not
    // part of a template, so they are recorded here to make the template hash
    // cover everything quorate applies.
    Metadata: {
      Quorate: {
        Cluster: spec.name,
        StackTags: { ...spec.tags },
        Prune: spec.prune,
        TerminationProtection: spec.terminationProtection,
      },
    },
    Resources: {
      ...securityGroupResources(spec),
      ...instanceRoleResources(spec),
      ...launchTemplateResources(spec, image),
      ...autoScalingGroupResources(spec),
    },
    Outputs: {
      GroupName: { Description: "Auto Scaling Group of the members", Value: ref(LOGICAL_ID.group) },
      LaunchTemplateId: {
        Description: "Launch template of the members",
        Value: ref(LOGICAL_ID.launchTemplate),
      },
      SecurityGroupId: {
        Description: "Security group of the members",
        Value: getAtt(LOGICAL_ID.securityGroup, "GroupId"),
      },
      ClusterName: { Description: "quorate cluster name", Value: spec.name },
      EtcdClientPort: { Description: "etcd client port", Value: String(spec.etcd.clientPort) },
    },
  };
}

export function renderStack(spec: ClusterSpec, image: { imageId: string }): RenderedStack {
  const template = renderTemplate(spec, image);
  const templateBody = canonicalJson(template);
  const templateSha256 = sha256Hex(templateBody);
  // quorate's own tags win over a manifest tag with the same key.
  const tags = sortTags({
    ...spec.tags,
    [STACK_TAG.cluster]: spec.name,
    [STACK_TAG.managedBy]: "quorate",
    [STACK_TAG.prune]: String(spec.prune),
    [STACK_TAG.templateSha256]: templateSha256,
  });
  return {
    stackName: spec.stackName,
    template,
    templateBody,
    templateSha256,
    tags,
    terminationProtection: spec.terminationProtection,
  };
}

/**
 * Every stack tag to apply: the rendered ones plus the git revision, the
 * applying quorate's owner name and what it pinned, sorted by key. Neither is in the template
 * hash: a new commit or owner alone must not make a stack out of sync.
 */
export function stackTags(
  rendered: RenderedStack,
  applied: { revision: string; owner: string; pinned?: Record<string, string> },
): CfnTag[] {
  const tags = Object.fromEntries(rendered.tags.map((tag) => [tag.Key, tag.Value]));
  return sortTags({
    ...tags,
    // What quorate chose when it applied (the snapshot a restore uses), kept on later applies.
    ...applied.pinned,
    [STACK_TAG.revision]: applied.revision,
    [STACK_TAG.owner]: applied.owner,
  });
}

function sortTags(tags: Record<string, string>): CfnTag[] {
  return Object.keys(tags)
    .sort()
    .map((key) => ({ Key: key, Value: tags[key] ?? "" }));
}
