// Flags that say where the manifests come from, shared by `reconcile` and `run`.
import { homedir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { usage } from "../errors.js";
import { createGitSource, type GitSource } from "../source/git.js";
import type { SignaturePolicy } from "../source/signatures.js";
import type { CommandContext } from "./command.js";
import { currentBranch } from "./revision.js";

export const SOURCE_FLAGS = {
  repo: { type: "string" },
  branch: { type: "string" },
  path: { type: "string" },
  "cache-dir": { type: "string" },
  "verify-signatures": { type: "boolean" },
  "allowed-signers": { type: "string" },
  keyring: { type: "string" },
  "allow-rewind": { type: "boolean" },
} as const;

export const SOURCE_FLAGS_HELP = `  --repo URL|DIR       git remote, bare repository or working directory (default: .)
  --branch B           branch to reconcile (default: the working directory's branch, else main)
  --path DIR           manifests inside the repository (default: clusters)
  --cache-dir DIR      where clones and checkouts are kept (default: ~/.cache/quorate/git)
  --verify-signatures  refuse a head commit that is unsigned or signed by an untrusted key;
                       with --allowed-signers FILE (ssh) or --keyring FILE|DIR (gpg)
  --allow-rewind       with --verify-signatures: accept a head that does not descend from the
                       last good revision (a force-push rewound the branch), with a warning;
                       without it such a head is refused, since an old signed commit pushed
                       back would undo what came after it. Without --verify-signatures a
                       rewind is always accepted, with the same warning`;

export interface SourceFlags {
  repo?: string | undefined;
  branch?: string | undefined;
  path?: string | undefined;
  "cache-dir"?: string | undefined;
  "verify-signatures"?: boolean | undefined;
  "allowed-signers"?: string | undefined;
  keyring?: string | undefined;
  "allow-rewind"?: boolean | undefined;
}

export function sourceFromFlags(
  flags: SourceFlags,
  ctx: CommandContext,
): { source: GitSource; path: string } {
  const repo = flags.repo ?? ".";
  const local = !/^[a-z+]+:\/\//.test(repo) && !/^[^/]+@[^/]+:/.test(repo);
  const branch = flags.branch ?? (local ? currentBranch(resolve(ctx.cwd, repo)) : "main");
  const cacheDir =
    flags["cache-dir"] ??
    join(ctx.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "quorate", "git");
  // The manifests are read from quorate's own checkout, so an absolute --path
  // must name a directory inside the repository, or it would be read from this
  // machine's disk instead of from the commit.
  const path = local
    ? pathInRepo(resolve(ctx.cwd, repo), flags.path ?? "clusters")
    : remotePath(flags.path ?? "clusters");
  return {
    source: createGitSource({
      repo,
      branch,
      cacheDir,
      cwd: ctx.cwd,
      verify: signaturePolicy(flags, ctx),
      manifestsPath: path,
      allowRewind: flags["allow-rewind"] === true,
    }),
    path,
  };
}

function signaturePolicy(flags: SourceFlags, ctx: CommandContext): SignaturePolicy | undefined {
  const signers = flags["allowed-signers"];
  const keyring = flags.keyring;
  if (!flags["verify-signatures"]) {
    if (signers || keyring) throw usage("--allowed-signers and --keyring need --verify-signatures");
    if (flags["allow-rewind"])
      throw usage(
        "--allow-rewind needs --verify-signatures",
        "without verification a rewound branch is already accepted, with a warning",
      );
    return undefined;
  }
  if (signers && keyring) throw usage("give --allowed-signers (ssh) or --keyring (gpg), not both");
  if (signers) return { mode: "ssh", allowedSigners: resolve(ctx.cwd, signers) };
  if (keyring) return { mode: "gpg", keyring: resolve(ctx.cwd, keyring) };
  throw usage(
    "--verify-signatures needs --allowed-signers FILE (ssh signatures) or --keyring FILE|DIR (gpg)",
  );
}

/**
 * --path as a path inside the repository: an absolute one inside it becomes
 * relative to its root; one outside it is refused.
 */
export function pathInRepo(repoDir: string, path: string): string {
  const inside = relative(repoDir, resolve(repoDir, path));
  if (inside.startsWith("..") || isAbsolute(inside)) {
    throw usage(
      `--path ${path} is outside the repository ${repoDir}`,
      "give the manifest directory inside --repo (for example clusters)",
    );
  }
  return inside === "" ? "." : inside;
}

/** With a remote --repo, --path can only be relative to the repository's root. */
function remotePath(path: string): string {
  if (isAbsolute(path) || relative(".", path).startsWith("..")) {
    throw usage(
      `--path ${path} is not inside the repository`,
      "give the manifest directory relative to the repository's root (for example clusters)",
    );
  }
  return path;
}
