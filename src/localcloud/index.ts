// The local cloud: what the CLI, tests and the demo import.
export { LocalCloudAdmin } from "./adminClient.js";
export type * from "./adminTypes.js";
export { feedDocument, feedUrlTemplate, localAmiId } from "./flatcarFeed.js";
export {
  DEFAULTS,
  type LocalCloud,
  type LocalCloudOptions,
  startLocalCloud,
} from "./localCloud.js";
