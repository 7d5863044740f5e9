// quorate's plan: change set or template diff -> Plan -> text, markdown, json. Pure: no AWS SDK
// at runtime, no network, no files (the resource specification lookup is passed in).

export {
  type ChangeSetChange,
  type ChangeSetDetail,
  type ChangeSetResourceChange,
  type ChangeSetTarget,
  resourceChangesFromChangeSet,
} from "./changeSet.js";
export {
  type ChangeSetPlanInput,
  type ClusterIdentity,
  errorClusterPlan,
  planForRemovedCluster,
  planFromChangeSet,
  planFromTemplates,
  type RemovedClusterInput,
  skippedClusterPlan,
  type TemplatePlanInput,
} from "./clusterPlan.js";
export { formatJson, PLAN_JSON_SCHEMA_VERSION, type PlanJson, planJson } from "./format/json.js";
export {
  formatMarkdown,
  GITHUB_COMMENT_MAX,
  type MarkdownOptions,
  PLAN_COMMENT_MARKER,
} from "./format/markdown.js";
export { formatText, type TextOptions } from "./format/text.js";
export { type LiveDetail, membersRoll, withLiveDetail } from "./liveDetail.js";
export * from "./model.js";
export { type GroupFacts, groupFacts, type RolloutInput, rolloutImpact } from "./rollout.js";
export {
  estimateRollout,
  formatRolloutHistory,
  parseRolloutHistory,
  type RecordedRollout,
  type RolloutHistory,
  withRollout,
} from "./rolloutHistory.js";
export {
  SNAPSHOT_CHECK,
  type SnapshotNeed,
  snapshotNeed,
  withSnapshotRequirement,
} from "./snapshotBeforeChange.js";
export { specWarnings, withSpecWarnings } from "./specWarnings.js";
export { diffTemplates } from "./templateDiff.js";
export {
  serviceSpecUpdateBehaviour,
  tableUpdateBehaviour,
  type UpdateBehaviour,
  type UpdateBehaviourLookup,
} from "./updateBehaviour.js";
export { changeWarnings, faultTolerance } from "./warnings.js";
