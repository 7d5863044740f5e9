// The members' security group: clients from the manifest's CIDRs, and members
// from the group itself on both ports (raft on the peer port; the client port
// because members forward client requests to the leader and quorate's
// gateway calls may come through any member).
import type { ClusterSpec } from "../manifest/types.js";
import { type CfnResource, getAtt } from "./cfnTemplate.js";
import { LOGICAL_ID } from "./contract.js";

const groupId = getAtt(LOGICAL_ID.securityGroup, "GroupId");

export function securityGroupResources(spec: ClusterSpec): Record<string, CfnResource> {
  const { clientPort, peerPort } = spec.etcd;
  const fromSelf = (port: number, description: string): CfnResource => ({
    Type: "AWS::EC2::SecurityGroupIngress",
    Properties: {
      GroupId: groupId,
      SourceSecurityGroupId: groupId,
      IpProtocol: "tcp",
      FromPort: port,
      ToPort: port,
      Description: description,
    },
  });
  return {
    [LOGICAL_ID.securityGroup]: {
      Type: "AWS::EC2::SecurityGroup",
      Properties: {
        GroupDescription: `etcd members of quorate cluster ${spec.name}`,
        VpcId: spec.network.vpcId,
        SecurityGroupIngress: spec.network.clientCidrs.map((cidr) => ({
          IpProtocol: "tcp",
          FromPort: clientPort,
          ToPort: clientPort,
          CidrIp: cidr,
          Description: "etcd clients and quorate probes",
        })),
        Tags: [{ Key: "Name", Value: `${spec.name}-etcd` }],
      },
    },
    // Separate resources: an inline rule cannot name the group it belongs to.
    [LOGICAL_ID.peerIngress]: fromSelf(peerPort, "etcd raft between members"),
    [LOGICAL_ID.peerClientIngress]: fromSelf(clientPort, "etcd client port between members"),
  };
}
