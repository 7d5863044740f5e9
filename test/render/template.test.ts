import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { canonicalJson, sha256Hex } from "../../src/render/canonicalJson.js";
import type { CfnResource, CfnTemplate } from "../../src/render/cfnTemplate.js";
import { HOOK_NAME, LOGICAL_ID, STACK_TAG } from "../../src/render/contract.js";
import { type RenderedStack, renderStack, stackTags } from "../../src/render/template.js";
import { readBootSettingsFromUserData, renderUserData } from "../../src/render/userData.js";
import { expectGolden, RENDER_FIXTURES } from "./golden.js";
import { coreosLegacySpec, devSpec, prodSpec, tlsSpec } from "./specs.js";

const FLATCAR_FEED = join(import.meta.dirname, "../fixtures/flatcar");

async function render(spec: ClusterSpec): Promise<RenderedStack> {
  const imageId = await createAmiFeed({ source: FLATCAR_FEED }).resolve(spec);
  return renderStack(spec, { imageId });
}

function resource(template: CfnTemplate, id: string): CfnResource {
  const found = template.Resources[id];
  if (!found) throw new Error(`no resource ${id}`);
  return found;
}

type Json = any;

describe("renderStack on the examples", () => {
  let dev: RenderedStack;
  let prod: RenderedStack;
  beforeAll(async () => {
    dev = await render(devSpec());
    prod = await render(prodSpec());
  });

  it("matches the golden templates", () => {
    expectGolden(join(RENDER_FIXTURES, "dev.template.json"), dev.templateBody);
    expectGolden(join(RENDER_FIXTURES, "prod.template.json"), prod.templateBody);
  });

  it("matches the golden template of terminateFirst: MaxSize size, MinInstancesInService size-1", async () => {
    const base = devSpec();
    const spec: ClusterSpec = {
      ...base,
      updatePolicy: { ...base.updatePolicy, order: "terminateFirst", minInstancesInService: 2 },
    };
    const rendered = await render(spec);
    expectGolden(join(RENDER_FIXTURES, "dev-terminate-first.template.json"), rendered.templateBody);
    const group = resource(rendered.template, LOGICAL_ID.group) as Json;
    expect(group.Properties.MaxSize).toBe("3");
    expect(group.UpdatePolicy.AutoScalingRollingUpdate.MinInstancesInService).toBe(2);
  });

  it("has canonical JSON as body and its sha256 as hash", () => {
    expect(dev.templateBody).toBe(canonicalJson(dev.template));
    expect(dev.templateSha256).toBe(sha256Hex(dev.templateBody));
    expect(dev.stackName).toBe("quorate-dev");
    expect(prod.stackName).toBe("etcd-prod-euw1");
  });

  it("renders the resources under the contract's logical ids", () => {
    expect(Object.keys(prod.template.Resources).sort()).toEqual(Object.values(LOGICAL_ID).sort());
    expect(Object.keys(prod.template.Outputs).sort()).toEqual([
      "ClusterName",
      "EtcdClientPort",
      "GroupName",
      "LaunchTemplateId",
      "SecurityGroupId",
    ]);
  });

  it("pins the group at size with a one-by-one, signal-gated rolling update that launches first", () => {
    const group = resource(prod.template, LOGICAL_ID.group) as Json;
    expect(group.Properties.MinSize).toBe("5");
    // Room for the one replacement that launches before its old member leaves.
    expect(group.Properties.MaxSize).toBe("6");
    expect(group.Properties.DesiredCapacity).toBe("5");
    expect(group.CreationPolicy).toEqual({ ResourceSignal: { Count: 5, Timeout: "PT15M" } });
    expect(group.UpdatePolicy.AutoScalingRollingUpdate).toEqual({
      MaxBatchSize: 1,
      MinInstancesInService: 5,
      WaitOnResourceSignals: true,
      PauseTime: "PT15M",
      SuspendProcesses: [
        "HealthCheck",
        "ReplaceUnhealthy",
        "AZRebalance",
        "AlarmNotification",
        "ScheduledActions",
      ],
    });
    expect(group.Properties.LaunchTemplate).toEqual({
      LaunchTemplateId: { Ref: LOGICAL_ID.launchTemplate },
      Version: { "Fn::GetAtt": [LOGICAL_ID.launchTemplate, "LatestVersionNumber"] },
    });
    expect(group.Properties.VPCZoneIdentifier).toEqual(prodSpec().network.subnetIds);
    expect(group.Properties.HealthCheckType).toBe("EC2");
  });

  it("has both lifecycle hooks: a launch abandons, a termination continues, by default", () => {
    const group = resource(dev.template, LOGICAL_ID.group) as Json;
    expect(group.Properties.LifecycleHookSpecificationList).toEqual([
      {
        LifecycleHookName: HOOK_NAME.launching,
        LifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
        DefaultResult: "ABANDON",
        HeartbeatTimeout: 600,
      },
      {
        LifecycleHookName: HOOK_NAME.terminating,
        LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
        DefaultResult: "CONTINUE",
        HeartbeatTimeout: 600,
      },
    ]);
    const prodHooks = (resource(prod.template, LOGICAL_ID.group) as Json).Properties
      .LifecycleHookSpecificationList;
    expect(prodHooks.map((h: Json) => h.HeartbeatTimeout)).toEqual([900, 900]);
  });

  it("requires IMDSv2 and turns instance metadata tags on", () => {
    const data = (resource(dev.template, LOGICAL_ID.launchTemplate) as Json).Properties
      .LaunchTemplateData;
    expect(data.MetadataOptions).toEqual({
      HttpEndpoint: "enabled",
      HttpTokens: "required",
      HttpPutResponseHopLimit: 1,
      InstanceMetadataTags: "enabled",
    });
    expect(data.ImageId).toBe("ami-0199c4f8b5d417905");
    expect(data.InstanceType).toBe("t3.medium");
    expect(data.KeyName).toBeUndefined();
  });

  it("carries the user-data, whose settings the local cloud can read back", () => {
    const data = (resource(prod.template, LOGICAL_ID.launchTemplate) as Json).Properties
      .LaunchTemplateData;
    const text = data.UserData["Fn::Base64"];
    expect(text).toBe(renderUserData(prodSpec()));
    const settings = readBootSettingsFromUserData(Buffer.from(text).toString("base64"));
    expect(settings.signalResource).toBe(LOGICAL_ID.group);
    expect(settings.stackName).toBe("etcd-prod-euw1");
  });

  it("encrypts both volumes, root first, and sets gp3 performance only when given", () => {
    const ebsOf = (stack: RenderedStack) =>
      (resource(stack.template, LOGICAL_ID.launchTemplate) as Json).Properties.LaunchTemplateData
        .BlockDeviceMappings;
    const root = {
      DeviceName: "/dev/xvda",
      Ebs: { VolumeType: "gp3", DeleteOnTermination: true, Encrypted: true },
    };
    expect(ebsOf(prod)).toEqual([
      root,
      {
        DeviceName: "/dev/xvdb",
        Ebs: {
          VolumeSize: 50,
          VolumeType: "gp3",
          Iops: 6000,
          Throughput: 250,
          DeleteOnTermination: true,
          Encrypted: true,
        },
      },
    ]);
    expect(ebsOf(dev)[0]).toEqual(root);
    expect(ebsOf(dev)[1].Ebs).toEqual({
      VolumeSize: 20,
      VolumeType: "gp3",
      DeleteOnTermination: true,
      Encrypted: true,
    });
  });

  it("opens the client port to the CIDRs and both ports between members", () => {
    const group = resource(prod.template, LOGICAL_ID.securityGroup) as Json;
    expect(group.Properties.VpcId).toBe("vpc-0a1b2c3d4e5f60718");
    expect(group.Properties.SecurityGroupIngress.map((r: Json) => [r.CidrIp, r.FromPort])).toEqual([
      ["10.0.0.0/16", 2379],
      ["10.1.0.0/16", 2379],
    ]);
    const self = { "Fn::GetAtt": [LOGICAL_ID.securityGroup, "GroupId"] };
    for (const [id, port] of [
      [LOGICAL_ID.peerIngress, 2380],
      [LOGICAL_ID.peerClientIngress, 2379],
    ] as const) {
      const rule = resource(prod.template, id) as Json;
      expect(rule.Properties).toMatchObject({
        GroupId: self,
        SourceSecurityGroupId: self,
        FromPort: port,
        ToPort: port,
      });
    }
  });

  it("lets members signal only their own stack, and read SSM only with TLS", async () => {
    const policies = (stack: RenderedStack) =>
      (resource(stack.template, LOGICAL_ID.role) as Json).Properties.Policies[0].PolicyDocument
        .Statement;
    expect(policies(dev)).toEqual([
      {
        Sid: "SignalOwnStack",
        Effect: "Allow",
        Action: "cloudformation:SignalResource",
        Resource: { Ref: "AWS::StackId" },
      },
    ]);
    const tls = await render(tlsSpec());
    const SSM_ARN =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not JavaScript
      "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/quorate/prod/*";
    expect(policies(tls)[1]).toEqual({
      Sid: "ReadTlsParameters",
      Effect: "Allow",
      Action: ["ssm:GetParameter", "ssm:GetParameters"],
      Resource: { "Fn::Sub": SSM_ARN },
    });
  });

  it("tags the stack with cluster, manager, template hash and the manifest's tags, sorted", () => {
    expect(prod.tags).toEqual([
      { Key: "cost-center", Value: "platform" },
      { Key: STACK_TAG.cluster, Value: "prod" },
      { Key: STACK_TAG.managedBy, Value: "quorate" },
      { Key: STACK_TAG.prune, Value: "false" },
      { Key: STACK_TAG.templateSha256, Value: prod.templateSha256 },
    ]);
    expect(stackTags(prod, { revision: "abc123", owner: "team-a" })).toEqual([
      { Key: "cost-center", Value: "platform" },
      { Key: STACK_TAG.cluster, Value: "prod" },
      { Key: STACK_TAG.managedBy, Value: "quorate" },
      { Key: STACK_TAG.owner, Value: "team-a" },
      { Key: STACK_TAG.prune, Value: "false" },
      { Key: STACK_TAG.revision, Value: "abc123" },
      { Key: STACK_TAG.templateSha256, Value: prod.templateSha256 },
    ]);
    expect(prod.terminationProtection).toBe(true);
    expect(dev.terminationProtection).toBe(false);
  });

  it("keeps tag keys free of / (instance metadata tags refuse them)", () => {
    const group = resource(prod.template, LOGICAL_ID.group) as Json;
    const keys = [...prod.tags, ...group.Properties.Tags].map((t: { Key: string }) => t.Key);
    for (const key of keys) expect(key).not.toContain("/");
  });

  it("describes the cluster and keeps nothing render-specific in Metadata", () => {
    expect(dev.template.Description).toContain("etcd cluster dev");
    expect(dev.template.Description).toContain("managed by quorate");
    expect(dev.template.Metadata).toEqual({
      Quorate: {
        Cluster: "dev",
        StackTags: {},
        Prune: false,
        TerminationProtection: false,
      },
    });
  });
});

describe("determinism", () => {
  it("renders the same spec to the same bytes", () => {
    const image = { imageId: "ami-0199c4f8b5d417905" };
    const a = renderStack(prodSpec(), image);
    const b = renderStack(prodSpec(), image);
    expect(b.templateBody).toBe(a.templateBody);
    expect(b.templateSha256).toBe(a.templateSha256);
    expect(b.tags).toEqual(a.tags);
  });

  it("does not depend on the order of the manifest's tags or labels", () => {
    const a = prodSpec();
    a.tags = { b: "2", a: "1" };
    const b = prodSpec();
    b.tags = { a: "1", b: "2" };
    const image = { imageId: "ami-0199c4f8b5d417905" };
    expect(renderStack(a, image).templateBody).toBe(renderStack(b, image).templateBody);
  });

  it("changes only the ImageId when only the Flatcar version changes", async () => {
    const old = await render(devSpec());
    const next = devSpec();
    next.image.version = "4152.2.0";
    const bumped = await render(next);
    const imageOf = (t: CfnTemplate) =>
      (resource(t, LOGICAL_ID.launchTemplate) as Json).Properties.LaunchTemplateData.ImageId;
    expect(imageOf(old.template)).toBe("ami-0199c4f8b5d417905");
    expect(imageOf(bumped.template)).toBe("ami-08d47e97b1d3fea53");
    const withoutImage = (t: CfnTemplate) => canonicalJson(t).replace(imageOf(t), "ami-IMAGE");
    expect(withoutImage(bumped.template)).toBe(withoutImage(old.template));
    expect(bumped.templateSha256).not.toBe(old.templateSha256);
  });

  it("changes the template hash when only stack tags or termination protection change", () => {
    const image = { imageId: "ami-0199c4f8b5d417905" };
    const base = renderStack(devSpec(), image).templateSha256;
    const tagged = devSpec();
    tagged.tags = { team: "x" };
    const unprotected = devSpec();
    unprotected.terminationProtection = true;
    expect(renderStack(tagged, image).templateSha256).not.toBe(base);
    expect(renderStack(unprotected, image).templateSha256).not.toBe(base);
  });

  it("adds KeyName only when set", () => {
    const spec = devSpec();
    spec.keyName = "ops";
    const data = (
      resource(
        renderStack(spec, { imageId: "ami-0123456789abcdef0" }).template,
        LOGICAL_ID.launchTemplate,
      ) as Json
    ).Properties.LaunchTemplateData;
    expect(data.KeyName).toBe("ops");
  });

  it("renders cloud-config for coreos-legacy with its pinned image", () => {
    const spec = coreosLegacySpec();
    const stack = renderStack(spec, { imageId: spec.image.imageId ?? "" });
    const data = (resource(stack.template, LOGICAL_ID.launchTemplate) as Json).Properties
      .LaunchTemplateData;
    expect(data.ImageId).toBe("ami-0123456789abcdef0");
    expect(data.UserData["Fn::Base64"]).toMatch(/^#cloud-config\n/);
  });
});
