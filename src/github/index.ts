// The GitHub REST adapter: sticky pull-request comments and commit statuses.
// IO lives here, never in src/plan or src/notify's pure parts.
export { DEFAULT_GITHUB_API_URL, gitHubClient } from "./api.js";
export { type CommitStatus, setCommitStatus } from "./commitStatus.js";
export {
  type GitHubContext,
  type GitHubRepoContext,
  githubContextFromEnv,
  githubRepoFromEnv,
} from "./context.js";
export {
  type StickyCommentInput,
  type StickyCommentResult,
  upsertStickyComment,
} from "./stickyComment.js";
