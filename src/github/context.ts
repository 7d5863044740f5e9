// Where a pull-request comment goes, from the standard GitHub Actions environment.
// https://docs.github.com/en/actions/reference/workflows-and-actions/variables
import { readFileSync } from "node:fs";
import { usage } from "../errors.js";
import { DEFAULT_GITHUB_API_URL } from "./api.js";

export interface GitHubRepoContext {
  apiUrl: string;
  token: string;
  repo: string;
}

export interface GitHubContext extends GitHubRepoContext {
  issueNumber: number;
}

/**
 * GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, and the pull request number from the event
 * payload at GITHUB_EVENT_PATH (pull_request.number, or issue.number for issue_comment), or
 * else from GITHUB_REF (refs/pull/N/merge).
 */
export function githubContextFromEnv(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string = (path) => readFileSync(path, "utf8"),
): GitHubContext {
  const { apiUrl, token, repo } = githubRepoFromEnv(env, "--comment github");
  const issueNumber =
    numberFromEvent(env.GITHUB_EVENT_PATH, readFile) ?? numberFromRef(env.GITHUB_REF);
  if (issueNumber === undefined) {
    throw usage(
      "--comment github: no pull request number in GITHUB_EVENT_PATH (pull_request.number) or GITHUB_REF (refs/pull/N/merge)",
      "run the workflow on pull_request, or set GITHUB_REF=refs/pull/N/merge",
    );
  }
  return { apiUrl, token, repo, issueNumber };
}

/** GITHUB_TOKEN, GITHUB_REPOSITORY and GITHUB_API_URL; `option` names the flag that needs them. */
export function githubRepoFromEnv(
  env: Record<string, string | undefined>,
  option: string,
): GitHubRepoContext {
  const token = env.GITHUB_TOKEN;
  if (!token) {
    throw usage(
      `${option}: GITHUB_TOKEN is not set`,
      "pass it to the step as env GITHUB_TOKEN set to secrets.GITHUB_TOKEN (see examples/github-actions)",
    );
  }
  const repo = env.GITHUB_REPOSITORY;
  if (!repo || !/^[^/\s]+\/[^/\s]+$/.test(repo)) {
    throw usage(
      `${option}: GITHUB_REPOSITORY ${repo ? `is not owner/name (got ${repo})` : "is not set"}`,
      "run inside GitHub Actions, or set GITHUB_REPOSITORY=owner/name",
    );
  }
  return { apiUrl: env.GITHUB_API_URL || DEFAULT_GITHUB_API_URL, token, repo };
}

function numberFromEvent(
  path: string | undefined,
  readFile: (path: string) => string,
): number | undefined {
  if (!path) return undefined;
  let event: {
    pull_request?: { number?: unknown };
    issue?: { number?: unknown; pull_request?: unknown };
  };
  try {
    event = JSON.parse(readFile(path));
  } catch {
    return undefined;
  }
  const n =
    event.pull_request?.number ?? (event.issue?.pull_request ? event.issue.number : undefined);
  return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : undefined;
}

function numberFromRef(ref: string | undefined): number | undefined {
  const match = /^refs\/pull\/(\d+)\/(?:merge|head)$/.exec(ref ?? "");
  return match ? Number(match[1]) : undefined;
}
