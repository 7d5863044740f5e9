// A group's tags, written two ways: through the Auto Scaling API
// (CreateOrUpdateTags) and by CloudFormation, which manages only the tags the
// template and the stack declare. An update applies the change between what it
// declared last time and what it declares now, so a tag written on the group
// through the API outlives every stack update that does not declare that key.
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateOrUpdateTags.html
import type { Tag } from "@aws-sdk/client-auto-scaling";
import { AwsError, validationError } from "../protocol/awsError.js";
import type { GroupRecord, GroupTag } from "../state/model.js";

/** Tags per group, those starting with aws: (CloudFormation's) not counted. */
const MAX_TAGS = 50;
const MAX_KEY = 128;
const MAX_VALUE = 256;

/** CreateOrUpdateTags on one group: a key that exists is overwritten, without an error. */
export function createOrUpdateTags(group: GroupRecord, tags: readonly Tag[]): void {
  const next = structuredClone(group.tags);
  for (const tag of tags) {
    const key = tag.Key ?? "";
    if (key.length === 0 || key.length > MAX_KEY)
      throw validationError(`Tag key must be 1 to ${MAX_KEY} characters long: '${key}'`);
    if (key.startsWith("aws:"))
      throw validationError(`Tag keys starting with 'aws:' are reserved for AWS use: '${key}'`);
    const value = tag.Value ?? "";
    if (value.length > MAX_VALUE)
      throw validationError(`Tag value of ${key} must be at most ${MAX_VALUE} characters long`);
    const written: GroupTag = {
      Key: key,
      Value: value,
      PropagateAtLaunch: !!tag.PropagateAtLaunch,
    };
    const at = next.findIndex((t) => t.Key === key);
    if (at >= 0) next[at] = written;
    else next.push(written);
  }
  if (next.filter((t) => !t.Key.startsWith("aws:")).length > MAX_TAGS) {
    throw new AwsError(
      "LimitExceeded",
      `The number of tags on the Auto Scaling group ${group.name} would exceed ${MAX_TAGS}`,
    );
  }
  group.tags = next;
}

/**
 * What CloudFormation does to a group's tags on create, update or rollback:
 * declared keys get their declared values, keys it declared before and no
 * longer does are removed, and every other tag stays. A group from a state
 * written before `declaredTags` was kept counts all its tags as declared.
 */
export function declareTags(group: GroupRecord, declared: readonly GroupTag[]): void {
  const before = new Set((group.declaredTags ?? group.tags).map((t) => t.Key));
  const now = new Map(declared.map((t) => [t.Key, t]));
  const kept = group.tags
    .filter((t) => !now.has(t.Key) && !before.has(t.Key))
    .map((t) => structuredClone(t));
  group.tags = [...declared.map((t) => structuredClone(t)), ...kept];
  group.declaredTags = declared.map((t) => structuredClone(t));
}
