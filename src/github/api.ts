// A small GitHub REST client on global fetch: JSON requests, pagination by the
// Link header, and errors that say whether to retry.
// https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api
import { terminal, transient } from "../errors.js";

export const DEFAULT_GITHUB_API_URL = "https://api.github.com";

export interface GitHubClient {
  request<T>(method: string, pathOrUrl: string, body?: unknown, signal?: AbortSignal): Promise<T>;
  /** Every page of a list, following rel="next". */
  list<T>(path: string): Promise<T[]>;
  /** Like request, but undefined for a 401/403/404 instead of an error. */
  tryRequest<T>(method: string, path: string): Promise<T | undefined>;
}

export function gitHubClient(apiUrl: string, token: string): GitHubClient {
  const base = apiUrl.replace(/\/+$/, "");
  const headers = {
    accept: "application/vnd.github+json",
    authorization: `Bearer ${token}`,
    "x-github-api-version": "2022-11-28",
    "user-agent": "quorate",
  };

  async function send(
    method: string,
    pathOrUrl: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<Response> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${base}${pathOrUrl}`;
    const init: RequestInit = { method, headers: { ...headers }, ...(signal ? { signal } : {}) };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
    try {
      return await fetch(url, init);
    } catch (error) {
      throw transient(
        `GitHub API ${method} ${url} failed: ${String(error)}`,
        "check the network and GITHUB_API_URL",
        error,
      );
    }
  }

  async function check(method: string, url: string, response: Response): Promise<Response> {
    if (response.ok) return response;
    const text = (await response.text()).slice(0, 300);
    const what = `GitHub API ${method} ${url}: HTTP ${response.status} ${text}`;
    if (response.status === 429 || response.status >= 500) throw transient(what, "retry later");
    if (response.status === 401 || response.status === 403) {
      throw terminal(
        what,
        "give the token permission to write pull-request comments and commit statuses (in GitHub Actions: `permissions: pull-requests: write` and `statuses: write`)",
      );
    }
    throw terminal(what, "check GITHUB_REPOSITORY and the pull request number");
  }

  return {
    async request<T>(
      method: string,
      pathOrUrl: string,
      body?: unknown,
      signal?: AbortSignal,
    ): Promise<T> {
      const response = await check(method, pathOrUrl, await send(method, pathOrUrl, body, signal));
      return (await response.json()) as T;
    },
    async list<T>(path: string): Promise<T[]> {
      const items: T[] = [];
      let next: string | undefined = `${path}${path.includes("?") ? "&" : "?"}per_page=100`;
      // A bound on pages, so a server that links to itself cannot loop forever.
      for (let page = 0; next && page < 1000; page++) {
        const response = await check("GET", next, await send("GET", next));
        items.push(...((await response.json()) as T[]));
        next = nextLink(response.headers.get("link"));
      }
      return items;
    },
    async tryRequest<T>(method: string, path: string): Promise<T | undefined> {
      const response = await send(method, path);
      if ([401, 403, 404].includes(response.status)) return undefined;
      return (await (await check(method, path, response)).json()) as T;
    },
  };
}

/** The rel="next" URL of a Link header, if any. */
export function nextLink(link: string | null): string | undefined {
  for (const part of link?.split(",") ?? []) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}
