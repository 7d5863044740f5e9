// The members' launch template. A change here makes a new version, which
// GetAtt LatestVersionNumber hands to the group: that is what starts a
// rolling update (docs/references.md#rolling-update-triggers).
import { terminal } from "../errors.js";
import { type ClusterSpec, ROOT_DEVICE_NAME } from "../manifest/types.js";
import { base64, type CfnResource, type CfnValue, getAtt } from "./cfnTemplate.js";
import { LOGICAL_ID, STACK_TAG } from "./contract.js";
import { renderUserData } from "./userData.js";

/**
 * EC2 takes at most 16 KB of user-data, counted before base64 encoding.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html
 */
export const USER_DATA_MAX_BYTES = 16 * 1024;

export function launchTemplateResources(
  spec: ClusterSpec,
  image: { imageId: string },
): Record<string, CfnResource> {
  const volume = spec.etcd.dataVolume;
  const ebs: Record<string, CfnValue> = {
    VolumeSize: volume.sizeGiB,
    VolumeType: volume.type,
    DeleteOnTermination: true,
    Encrypted: true,
    ...(spec.kmsKeyId ? { KmsKeyId: spec.kmsKeyId } : {}),
  };
  // The root volume holds the TLS keys and the peer list: encrypted too, even
  // where the account does not encrypt EBS by default. Its size follows the AMI.
  const root: Record<string, CfnValue> = {
    VolumeType: "gp3",
    DeleteOnTermination: true,
    Encrypted: true,
    ...(spec.kmsKeyId ? { KmsKeyId: spec.kmsKeyId } : {}),
  };
  if (volume.iops !== undefined && volume.type !== "gp2") ebs.Iops = volume.iops;
  if (volume.throughput !== undefined && volume.type === "gp3") ebs.Throughput = volume.throughput;

  const userData = renderUserData(spec);
  const userDataBytes = new TextEncoder().encode(userData).length;
  if (userDataBytes > USER_DATA_MAX_BYTES) {
    throw terminal(
      `cluster ${spec.name}: rendered user-data is ${userDataBytes} bytes, over EC2's ${USER_DATA_MAX_BYTES}`,
      "this is a quorate bug: report it with the manifest",
    );
  }

  const data: Record<string, CfnValue> = {
    ImageId: image.imageId,
    InstanceType: spec.instanceType,
    IamInstanceProfile: { Arn: getAtt(LOGICAL_ID.instanceProfile, "Arn") },
    SecurityGroupIds: [getAtt(LOGICAL_ID.securityGroup, "GroupId")],
    // IMDSv2 only; metadata tags on, because the peer list arrives as instance
    // tags; hop limit 1, since every container on a member uses the host's
    // network (docs/member-defaults.md#imds-hop-limit-1).
    MetadataOptions: {
      HttpEndpoint: "enabled",
      HttpTokens: "required",
      HttpPutResponseHopLimit: 1,
      InstanceMetadataTags: "enabled",
    },
    BlockDeviceMappings: [
      { DeviceName: ROOT_DEVICE_NAME, Ebs: root },
      { DeviceName: volume.deviceName, Ebs: ebs },
    ],
    UserData: base64(userData),
    TagSpecifications: [
      {
        ResourceType: "volume",
        Tags: [
          { Key: "Name", Value: `${spec.name}-etcd` },
          { Key: STACK_TAG.cluster, Value: spec.name },
        ],
      },
    ],
  };
  if (spec.keyName) data.KeyName = spec.keyName;

  return {
    [LOGICAL_ID.launchTemplate]: {
      Type: "AWS::EC2::LaunchTemplate",
      Properties: { LaunchTemplateData: data },
    },
  };
}
