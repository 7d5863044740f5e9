// GitHub commit statuses for the revision a rollout applies: pending when it
// starts, success or failure when it ends, one context per cluster.
// https://docs.github.com/en/rest/commits/statuses#create-a-commit-status
import type { GitHubClient } from "./api.js";

export interface CommitStatus {
  /** The full commit SHA. */
  sha: string;
  state: "pending" | "success" | "failure" | "error";
  /** quorate/<cluster>: one line per cluster under the commit. */
  context: string;
  /** At most 140 characters (GitHub's limit). */
  description: string;
  targetUrl?: string;
}

export async function setCommitStatus(
  github: GitHubClient,
  repo: string,
  status: CommitStatus,
  signal?: AbortSignal,
): Promise<void> {
  const path = `/repos/${repo.split("/").map(encodeURIComponent).join("/")}/statuses/${status.sha}`;
  await github.request(
    "POST",
    path,
    {
      state: status.state,
      context: status.context,
      description: status.description,
      ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
    },
    signal,
  );
}
