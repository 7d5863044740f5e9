// The members' IAM role: the least an instance needs. Peer lists reach it
// through instance metadata tags, so it needs no EC2 or Auto Scaling rights;
// only its own success signal, and its TLS material when TLS is on.
import type { ClusterSpec } from "../manifest/types.js";
import { type CfnResource, type CfnValue, ref, sub } from "./cfnTemplate.js";
import { LOGICAL_ID } from "./contract.js";

const POLICY_VERSION = "2012-10-17";

/** A key id becomes the key's ARN in the stack's account and region; an ARN stays. */
export function kmsKeyArn(keyId: string): CfnValue {
  if (keyId.startsWith("arn:")) return keyId;
  return sub(`arn:\${AWS::Partition}:kms:\${AWS::Region}:\${AWS::AccountId}:key/${keyId}`);
}

export function instanceRoleResources(spec: ClusterSpec): Record<string, CfnResource> {
  const statements: CfnValue[] = [
    {
      Sid: "SignalOwnStack",
      Effect: "Allow",
      Action: "cloudformation:SignalResource",
      Resource: ref("AWS::StackId"),
    },
  ];
  const prefix = spec.etcd.tls.enabled ? spec.etcd.tls.parameterPrefix : undefined;
  if (prefix) {
    statements.push({
      Sid: "ReadTlsParameters",
      Effect: "Allow",
      Action: ["ssm:GetParameter", "ssm:GetParameters"],
      // A parameter's ARN drops the leading "/" of its name.
      Resource: sub(
        `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter${prefix}*`,
      ),
    });
  }
  if (spec.kmsKeyId) {
    statements.push({
      Sid: "DecryptWithClusterKey",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: kmsKeyArn(spec.kmsKeyId),
      // Only through SSM (the TLS SecureStrings): EBS uses the key through grants, not this role.
      Condition: { StringEquals: { "kms:ViaService": sub("ssm.${AWS::Region}.amazonaws.com") } },
    });
  }
  if (spec.restore && spec.backup) {
    // Only a restore's members read snapshots, and only their own cluster's:
    // the bucket may hold other clusters' prefixes.
    statements.push({
      Sid: "ReadOwnSnapshots",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: sub(`arn:\${AWS::Partition}:s3:::${spec.backup.bucket}/${spec.backup.prefix}*`),
    });
    const key =
      spec.backup.encryption.type === "SSE-KMS" ? spec.backup.encryption.kmsKeyId : undefined;
    if (key) {
      statements.push({
        Sid: "DecryptOwnSnapshots",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: kmsKeyArn(key),
        Condition: { StringEquals: { "kms:ViaService": sub("s3.${AWS::Region}.amazonaws.com") } },
      });
    }
  }
  return {
    [LOGICAL_ID.role]: {
      Type: "AWS::IAM::Role",
      Properties: {
        Description: `etcd members of quorate cluster ${spec.name}`,
        AssumeRolePolicyDocument: {
          Version: POLICY_VERSION,
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "ec2.amazonaws.com" },
              Action: "sts:AssumeRole",
            },
          ],
        },
        Policies: [
          {
            PolicyName: "quorate-etcd-member",
            PolicyDocument: { Version: POLICY_VERSION, Statement: statements },
          },
        ],
      },
    },
    [LOGICAL_ID.instanceProfile]: {
      Type: "AWS::IAM::InstanceProfile",
      Properties: { Roles: [ref(LOGICAL_ID.role)] },
    },
  };
}
