// A hand-written etcd stack template in the shape of docs/architecture.md#the-rendered-stack,
// standing in for src/render's renderStack until it lands, and a resolver that
// turns its references into the physical values a change set shows.
import { KNOWN_AFTER_APPLY } from "../../src/plan/model.js";
import type { CfnTemplate } from "../../src/plan/template.js";

export interface StackFacts {
  cluster: string;
  stackName: string;
  size: number;
  instanceType: string;
  imageId: string;
  vpcId: string;
  subnetIds: string[];
  groupName: string;
  signalTimeout: string;
  hookTimeoutSeconds: number;
}

export function facts(cluster: string, overrides: Partial<StackFacts> = {}): StackFacts {
  return {
    cluster,
    stackName: `quorate-${cluster}`,
    size: 3,
    instanceType: "t3.medium",
    imageId: "ami-0f1a2b3c4d5e60001",
    vpcId: "vpc-0a1b2c3d4e5f60718",
    subnetIds: ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002", "subnet-0a1b2c3d4e5f60003"],
    groupName: `quorate-${cluster}-etcd`,
    signalTimeout: "PT10M",
    hookTimeoutSeconds: 600,
    ...overrides,
  };
}

const getAtt = (id: string, attribute: string) => ({ "Fn::GetAtt": [id, attribute] });

export function etcdTemplate(f: StackFacts): CfnTemplate {
  const hook = (name: string, transition: string) => ({
    LifecycleHookName: name,
    LifecycleTransition: transition,
    HeartbeatTimeout: f.hookTimeoutSeconds,
    DefaultResult: "ABANDON",
  });
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description: `quorate etcd cluster ${f.cluster}`,
    Resources: {
      EtcdSecurityGroup: {
        Type: "AWS::EC2::SecurityGroup",
        Properties: {
          GroupDescription: `etcd cluster ${f.cluster}`,
          VpcId: f.vpcId,
          SecurityGroupIngress: [
            { IpProtocol: "tcp", FromPort: 2379, ToPort: 2379, CidrIp: "10.0.0.0/16" },
          ],
        },
      },
      EtcdPeerIngress: {
        Type: "AWS::EC2::SecurityGroupIngress",
        Properties: {
          GroupId: getAtt("EtcdSecurityGroup", "GroupId"),
          IpProtocol: "tcp",
          FromPort: 2380,
          ToPort: 2380,
          SourceSecurityGroupId: getAtt("EtcdSecurityGroup", "GroupId"),
        },
      },
      EtcdRole: {
        Type: "AWS::IAM::Role",
        Properties: {
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: { Service: "ec2.amazonaws.com" },
                Action: "sts:AssumeRole",
              },
            ],
          },
        },
      },
      EtcdInstanceProfile: {
        Type: "AWS::IAM::InstanceProfile",
        Properties: { Roles: [{ Ref: "EtcdRole" }] },
      },
      EtcdLaunchTemplate: {
        Type: "AWS::EC2::LaunchTemplate",
        Properties: {
          LaunchTemplateData: {
            ImageId: f.imageId,
            InstanceType: f.instanceType,
            IamInstanceProfile: { Arn: getAtt("EtcdInstanceProfile", "Arn") },
            SecurityGroupIds: [getAtt("EtcdSecurityGroup", "GroupId")],
            MetadataOptions: { HttpTokens: "required", InstanceMetadataTags: "enabled" },
            UserData: "eyJpZ25pdGlvbiI6eyJ2ZXJzaW9uIjoiMy4zLjAifX0=",
          },
        },
      },
      EtcdGroup: {
        Type: "AWS::AutoScaling::AutoScalingGroup",
        Properties: {
          AutoScalingGroupName: f.groupName,
          MinSize: String(f.size),
          MaxSize: String(f.size),
          DesiredCapacity: String(f.size),
          LaunchTemplate: {
            LaunchTemplateId: { Ref: "EtcdLaunchTemplate" },
            Version: getAtt("EtcdLaunchTemplate", "LatestVersionNumber"),
          },
          VPCZoneIdentifier: f.subnetIds,
          LifecycleHookSpecificationList: [
            hook("quorate-launching", "autoscaling:EC2_INSTANCE_LAUNCHING"),
            hook("quorate-terminating", "autoscaling:EC2_INSTANCE_TERMINATING"),
          ],
        },
        CreationPolicy: { ResourceSignal: { Count: f.size, Timeout: f.signalTimeout } },
        UpdatePolicy: {
          AutoScalingRollingUpdate: {
            MaxBatchSize: 1,
            MinInstancesInService: f.size - 1,
            PauseTime: f.signalTimeout,
            WaitOnResourceSignals: true,
            SuspendProcesses: [
              "HealthCheck",
              "ReplaceUnhealthy",
              "AZRebalance",
              "AlarmNotification",
              "ScheduledActions",
            ],
          },
        },
      },
    },
  };
}

/** Physical ids and attributes of a deployed stack; undefined ones are known after apply. */
export type Physical = Record<string, string | undefined>;

export function physicalOf(f: StackFacts, launchTemplateVersion = "1"): Physical {
  const suffix = f.cluster
    .padEnd(8, "0")
    .slice(0, 8)
    .replaceAll(/[^a-z0-9]/g, "0");
  return {
    EtcdSecurityGroup: `sg-0${suffix}aaaa1`,
    "EtcdSecurityGroup.GroupId": `sg-0${suffix}aaaa1`,
    EtcdRole: `${f.stackName}-EtcdRole-1A2B3C4D5E6F`,
    EtcdInstanceProfile: `${f.stackName}-EtcdInstanceProfile-7G8H9I0J`,
    "EtcdInstanceProfile.Arn": `arn:aws:iam::123456789012:instance-profile/${f.stackName}-EtcdInstanceProfile-7G8H9I0J`,
    EtcdLaunchTemplate: `lt-0${suffix}bbbb2`,
    "EtcdLaunchTemplate.LatestVersionNumber": launchTemplateVersion,
    EtcdGroup: f.groupName,
  };
}

/** A template value with Ref and Fn::GetAtt replaced as CloudFormation shows them in a change set. */
export function resolve(value: unknown, physical: Physical): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, physical));
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === "string") return physical[record.Ref] ?? KNOWN_AFTER_APPLY;
  const getAtt = record["Fn::GetAtt"];
  if (Array.isArray(getAtt)) return physical[getAtt.join(".")] ?? KNOWN_AFTER_APPLY;
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, resolve(v, physical)]));
}

/** {"Properties": ...} of one resource, resolved, as BeforeContext / AfterContext carry it. */
export function context(template: CfnTemplate, logicalId: string, physical: Physical): string {
  const resource = template.Resources?.[logicalId];
  return JSON.stringify({ Properties: resolve(resource?.Properties ?? {}, physical) });
}
