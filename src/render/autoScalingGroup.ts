// The Auto Scaling Group: fixed size, lifecycle hooks through which quorate
// changes etcd membership, and a rolling update that replaces one member at a
// time and waits for each new member's signal.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html
import { durationMs } from "../manifest/duration.js";
import type { ClusterSpec } from "../manifest/types.js";
import { type CfnResource, getAtt, ref } from "./cfnTemplate.js";
import { HOOK_NAME, LOGICAL_ID, restoreGroupName } from "./contract.js";

/** Processes that would fight a rolling update (AWS's recommended list). */
export const SUSPENDED_PROCESSES = [
  "HealthCheck",
  "ReplaceUnhealthy",
  "AZRebalance",
  "AlarmNotification",
  "ScheduledActions",
] as const;

export function autoScalingGroupResources(spec: ClusterSpec): Record<string, CfnResource> {
  const size = String(spec.size);
  // Lifecycle hooks take whole seconds, not an ISO 8601 duration.
  const heartbeat = Math.round(durationMs(spec.updatePolicy.lifecycleHookTimeout) / 1000);
  return {
    [LOGICAL_ID.group]: {
      Type: "AWS::AutoScaling::AutoScalingGroup",
      Properties: {
        // A restore is a new group (a new name requires replacement), whose
        // members start one new cluster from the snapshot.
        ...(spec.restore
          ? { AutoScalingGroupName: restoreGroupName(spec.stackName, spec.restore.id) }
          : {}),
        // etcd membership is quorate's to change: the group never scales. Launching
        // first needs room for one more instance during a rolling update
        // (CloudFormation refuses MinInstancesInService >= MaxSize).
        MinSize: size,
        MaxSize: String(spec.size + (spec.updatePolicy.order === "launchFirst" ? 1 : 0)),
        DesiredCapacity: size,
        LaunchTemplate: {
          LaunchTemplateId: ref(LOGICAL_ID.launchTemplate),
          Version: getAtt(LOGICAL_ID.launchTemplate, "LatestVersionNumber"),
        },
        VPCZoneIdentifier: [...spec.network.subnetIds],
        HealthCheckType: "EC2",
        // Tag keys reach instance metadata, which refuses "/" in keys.
        Tags: [{ Key: "Name", Value: `${spec.name}-etcd`, PropagateAtLaunch: true }],
        LifecycleHookSpecificationList: [
          {
            LifecycleHookName: HOOK_NAME.launching,
            LifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
            // If quorate is gone, nobody publishes the peer list or adds the
            // member: the new instance must not join.
            DefaultResult: "ABANDON",
            HeartbeatTimeout: heartbeat,
          },
          {
            LifecycleHookName: HOOK_NAME.terminating,
            LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
            // An instance that is going away goes away; quorate removes a
            // member it could not remove in time as a dead member later.
            DefaultResult: "CONTINUE",
            HeartbeatTimeout: heartbeat,
          },
        ],
      },
      CreationPolicy: {
        ResourceSignal: { Count: spec.size, Timeout: spec.updatePolicy.signalTimeout },
      },
      UpdatePolicy: {
        AutoScalingRollingUpdate: {
          MaxBatchSize: spec.updatePolicy.maxBatchSize,
          // size-1 by default: terminate an old member first, then launch its
          // replacement, the order etcd wants (remove, then add).
          MinInstancesInService: spec.updatePolicy.minInstancesInService,
          WaitOnResourceSignals: true,
          PauseTime: spec.updatePolicy.signalTimeout,
          SuspendProcesses: [...SUSPENDED_PROCESSES],
        },
        AutoScalingScheduledAction: { IgnoreUnmodifiedGroupSizeProperties: true },
      },
    },
  };
}
