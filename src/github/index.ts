// The GitHub REST adapter: sticky pull-request comments. IO lives here, never in src/plan.
export { DEFAULT_GITHUB_API_URL } from "./api.js";
export { type GitHubContext, githubContextFromEnv } from "./context.js";
export {
  type StickyCommentInput,
  type StickyCommentResult,
  upsertStickyComment,
} from "./stickyComment.js";
