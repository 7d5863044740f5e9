// One pull-request comment per plan, updated in place on every run (Atlantis
// #496: a new comment per run buries the conversation). The comment is found
// by a hidden marker in its body, among comments written by the token's user.
// https://docs.github.com/en/rest/issues/comments
import { DEFAULT_GITHUB_API_URL, gitHubClient } from "./api.js";

export interface StickyCommentInput {
  /** Defaults to https://api.github.com (GITHUB_API_URL on GitHub Enterprise). */
  apiUrl?: string;
  token: string;
  /** owner/name */
  repo: string;
  /** The pull request (or issue) number. */
  issueNumber: number;
  body: string;
  /** A hidden HTML comment, e.g. <!-- quorate-plan -->; added to the body when missing. */
  marker: string;
}

export interface StickyCommentResult {
  action: "created" | "updated" | "unchanged";
  id: number;
  url: string;
}

interface IssueComment {
  id: number;
  body?: string;
  html_url: string;
  user?: { login?: string; type?: string } | null;
}

export async function upsertStickyComment(input: StickyCommentInput): Promise<StickyCommentResult> {
  const github = gitHubClient(input.apiUrl ?? DEFAULT_GITHUB_API_URL, input.token);
  const body = input.body.includes(input.marker) ? input.body : `${input.marker}\n${input.body}`;
  const repo = input.repo.split("/").map(encodeURIComponent).join("/");
  const comments = await github.list<IssueComment>(
    `/repos/${repo}/issues/${input.issueNumber}/comments`,
  );
  // A personal token can say who it is; the Actions GITHUB_TOKEN cannot (GET /user is 403),
  // and then the comment must have been written by a bot, never by a person quoting ours.
  const me = await github.tryRequest<{ login: string }>("GET", "/user");
  const mine = comments.find(
    (c) =>
      c.body?.includes(input.marker) && (me ? c.user?.login === me.login : c.user?.type === "Bot"),
  );
  if (mine && mine.body === body) {
    return { action: "unchanged", id: mine.id, url: mine.html_url };
  }
  if (mine) {
    const updated = await github.request<IssueComment>(
      "PATCH",
      `/repos/${repo}/issues/comments/${mine.id}`,
      { body },
    );
    return { action: "updated", id: updated.id, url: updated.html_url };
  }
  const created = await github.request<IssueComment>(
    "POST",
    `/repos/${repo}/issues/${input.issueNumber}/comments`,
    { body },
  );
  return { action: "created", id: created.id, url: created.html_url };
}
