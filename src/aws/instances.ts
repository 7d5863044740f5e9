// EC2 as plain data: addresses and tags of a group's instances, and the tags
// through which quorate hands a new member its peer list.
import type { EC2Client } from "@aws-sdk/client-ec2";
import { classifyAwsError } from "./awsErrors.js";
import { CreateTagsCommand, DescribeInstancesCommand } from "./sdk.js";

export interface LiveInstance {
  instanceId: string;
  state: string;
  privateIp?: string;
  imageId?: string;
  launchTime?: Date;
  tags: Record<string, string>;
}

export async function describeInstances(
  ec2: EC2Client,
  instanceIds: readonly string[],
): Promise<Map<string, LiveInstance>> {
  const found = new Map<string, LiveInstance>();
  if (instanceIds.length === 0) return found;
  for (let i = 0; i < instanceIds.length; i += 200) {
    let nextToken: string | undefined;
    do {
      try {
        const out = await ec2.send(
          new DescribeInstancesCommand({
            Filters: [{ Name: "instance-id", Values: instanceIds.slice(i, i + 200) }],
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
        for (const reservation of out.Reservations ?? []) {
          for (const inst of reservation.Instances ?? []) {
            const tags: Record<string, string> = {};
            for (const t of inst.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? "";
            found.set(inst.InstanceId ?? "", {
              instanceId: inst.InstanceId ?? "",
              state: inst.State?.Name ?? "unknown",
              ...(inst.PrivateIpAddress ? { privateIp: inst.PrivateIpAddress } : {}),
              ...(inst.ImageId ? { imageId: inst.ImageId } : {}),
              ...(inst.LaunchTime ? { launchTime: inst.LaunchTime } : {}),
              tags,
            });
          }
        }
        nextToken = out.NextToken;
      } catch (error) {
        throw classifyAwsError(error, "reading instances");
      }
    } while (nextToken);
  }
  return found;
}

export async function tagInstance(
  ec2: EC2Client,
  instanceId: string,
  tags: Record<string, string>,
): Promise<void> {
  try {
    await ec2.send(
      new CreateTagsCommand({
        Resources: [instanceId],
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  } catch (error) {
    throw classifyAwsError(error, `tagging ${instanceId}`);
  }
}
