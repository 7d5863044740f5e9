// Where a git source lives, how to show it to an operator without leaking
// credentials, and where its cache goes. Pure.
import { createHash } from "node:crypto";
import { basename, isAbsolute, resolve } from "node:path";
import { usage } from "../errors.js";

export type RepoLocation =
  /** Anything git fetches over a transport: https://, ssh://, git@host:path, file://. */
  | { readonly kind: "remote"; readonly url: string; readonly display: string }
  /** A path on this machine: a bare repository or a working directory. */
  | { readonly kind: "local"; readonly path: string; readonly display: string };

const URL_WITH_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Classify `repo` the way git does: a scheme is a URL; a colon before the
 * first slash is scp-like syntax (`git@github.com:org/repo.git`); anything
 * else is a local path, resolved against `cwd`.
 * https://git-scm.com/docs/git-clone#_git_urls
 */
export function parseRepoLocation(repo: string, cwd: string = process.cwd()): RepoLocation {
  if (repo.trim() === "") throw usage("--repo is empty", "pass a git URL or a local path");
  // A leading dash would reach git as an option (argument injection).
  if (repo.startsWith("-")) {
    throw usage(`--repo ${JSON.stringify(repo)} starts with "-"`, "pass a git URL or a path");
  }
  const colon = repo.indexOf(":");
  const slash = repo.indexOf("/");
  const scpLike = colon > 0 && (slash === -1 || colon < slash) && !isAbsolute(repo);
  if (URL_WITH_SCHEME.test(repo) || scpLike) {
    return { kind: "remote", url: repo, display: redactCredentials(repo) };
  }
  const path = resolve(cwd, repo);
  return { kind: "local", path, display: path };
}

/** What git is given to fetch from. */
export function fetchTarget(location: RepoLocation): string {
  return location.kind === "remote" ? location.url : location.path;
}

/**
 * Hide secrets in URLs inside any text (git's own error messages included):
 * `https://user:token@host` -> `https://user:***@host`, and a bare
 * `https://token@host` (the usual GitHub token form) -> `https://***@host`.
 * An ssh user name (`ssh://git@host`) is not a secret and stays.
 */
export function redactCredentials(text: string): string {
  return text.replace(
    /\b([a-z][a-z0-9+.-]*):\/\/([^/@\s'"]+)@/gi,
    (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(":");
      if (colon >= 0) return `${scheme}://${userinfo.slice(0, colon)}:***@`;
      if (/^https?$/i.test(scheme)) return `${scheme}://***@`;
      return `${scheme}://${userinfo}@`;
    },
  );
}

/**
 * The cache directory name for a location: a readable slug plus a hash of
 * the location without credentials, so rotating a token keeps the cache.
 */
export function cacheKey(location: RepoLocation): string {
  const identity =
    location.kind === "remote"
      ? location.url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/i, "$1")
      : location.path;
  const hash = createHash("sha256").update(identity).digest("hex").slice(0, 16);
  const last = basename(identity.replace(/[/:]+$/, "").replace(/^.*:/, "")).replace(/\.git$/, "");
  const slug = last.replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 40) || "repo";
  return `${slug}-${hash}`;
}

/**
 * Branch names that git would accept and that cannot be mistaken for an
 * option. A subset of `git check-ref-format --branch`:
 * https://git-scm.com/docs/git-check-ref-format
 */
export function checkBranchName(branch: string): void {
  const bad =
    branch === "" ||
    branch.startsWith("-") ||
    branch.startsWith("/") ||
    branch.endsWith("/") ||
    branch.endsWith(".") ||
    branch.endsWith(".lock") ||
    branch.includes("..") ||
    branch.includes("//") ||
    branch.includes("@{") ||
    branch === "@" ||
    /[\s~^:?*[\\]/.test(branch) ||
    [...branch].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f) ||
    branch.split("/").some((part) => part.startsWith("."));
  if (bad) {
    throw usage(
      `--branch ${JSON.stringify(branch)} is not a valid git branch name`,
      "pass the branch name as shown by `git branch -r`, without refs/heads/",
    );
  }
}
