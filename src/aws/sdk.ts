// The one door from quorate's own code to the AWS SDK: every client, command
// and helper quorate calls AWS with is named here, and nothing else is.
// In dist/ this module is replaced by a tree-shaken bundle of exactly these
// names (bin/bundle-aws-sdk.mjs): the packages' full schemas cost a process
// 5-73 MiB each (@aws-sdk/client-ec2 alone takes a bare Node from 40 to
// 111 MiB, for the two EC2 calls quorate makes), and the bundle of all four
// clients costs 14 MiB. The code is the SDK's own, unchanged; only the
// schemas and commands nothing here names are left out.
// Types stay importable from the packages themselves: they are erased.
// The local cloud (src/localcloud) serves every operation and imports the
// packages whole, as does test code.
export {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  CreateOrUpdateTagsCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
  SetInstanceHealthCommand,
} from "@aws-sdk/client-auto-scaling";
export {
  CancelUpdateStackCommand,
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackEventsCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListChangeSetsCommand,
  UpdateTerminationProtectionCommand,
} from "@aws-sdk/client-cloudformation";
export { CreateTagsCommand, DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
export {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
export { fromTemporaryCredentials } from "@aws-sdk/credential-providers";
export {
  doesIdentityRequireRefresh,
  isIdentityExpired,
  memoizeIdentityProvider,
} from "@smithy/core";
