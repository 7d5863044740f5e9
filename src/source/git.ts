// The git source: fetch the branch into a bare mirror in the cache, decide
// whether its head may be applied, and write that exact commit out where the
// reconciler reads manifests from. Failures are values (SourceResult); the
// last good revision is kept and handed back with every failure.
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { terminal } from "../errors.js";
import { descendsFrom } from "./ancestry.js";
import { GitCommandError, runGit, summarizeGitError } from "./gitProcess.js";
import { cacheKey, checkBranchName, fetchTarget, parseRepoLocation } from "./repoLocation.js";
import { createRevisionStore } from "./revisions.js";
import { describePolicy, type SignaturePolicy, verifyCommitSignature } from "./signatures.js";
import type {
  BranchRewind,
  ChangedPath,
  MaterializedRevision,
  SourceFailureReason,
  SourceResult,
  SourceRevision,
} from "./types.js";

export interface GitSourceOptions {
  /** A URL, a bare repository path or a working directory path. */
  readonly repo: string;
  readonly branch: string;
  /** Where mirrors and checkouts live; one process at a time per directory. */
  readonly cacheDir: string;
  /** Refuse heads whose signature this policy does not trust. */
  readonly verify?: SignaturePolicy | undefined;
  readonly git?: { readonly timeoutMs?: number | undefined } | undefined;
  /** Resolves a relative local `repo` path; defaults to process.cwd(). */
  readonly cwd?: string | undefined;
  /**
   * The manifests directory (`--path`) inside the checkout. A head without it
   * is refused, so that the last good revision never moves past a commit that
   * deleted or moved it.
   */
  readonly manifestsPath?: string | undefined;
  /**
   * With `verify`, accept a head that does not descend from the last good
   * revision (a force-push rewound the branch) instead of refusing it.
   * Without `verify`, such a head is always accepted, with `rewound` set.
   */
  readonly allowRewind?: boolean | undefined;
}

export interface GitSource {
  /** The repository, credentials redacted: for logs and status. */
  readonly display: string;
  readonly branch: string;
  /** Fetch, verify and check out the branch head. Rejects only when `signal` aborts. */
  sync(signal?: AbortSignal): Promise<SourceResult>;
  /** The last revision `sync` accepted, if any. */
  lastGood(): MaterializedRevision | undefined;
  /** A file's content at a revision already fetched; undefined when there is no such file. */
  readFileAtRevision(
    revision: string,
    path: string,
    signal?: AbortSignal,
  ): Promise<string | undefined>;
  /** What differs between two fetched revisions, optionally only under `under` (e.g. "clusters"). */
  listChangedPaths(
    from: string,
    to: string,
    options?: { readonly under?: string; readonly signal?: AbortSignal },
  ): Promise<ChangedPath[]>;
  /**
   * Check out any revision (a sha, branch, tag, or for a local repository
   * any expression such as HEAD~1), fetching it if needed. For rendering a
   * base to diff against (`plan --offline --base REF`): it is never applied,
   * so it is not signature-checked.
   */
  materializeRevision(ref: string, signal?: AbortSignal): Promise<MaterializedRevision>;
}

export function createGitSource(options: GitSourceOptions): GitSource {
  checkBranchName(options.branch);
  const location = parseRepoLocation(options.repo, options.cwd);
  const { branch, verify } = options;
  const timeoutMs = options.git?.timeoutMs;
  const root = join(options.cacheDir, cacheKey(location));
  const mirror = join(root, "mirror.git");
  const store = createRevisionStore(mirror, join(root, "revisions"), timeoutMs);
  // Where fetched heads land in the mirror, apart from anything else in it.
  const trackingRef = `refs/quorate/heads/${branch}`;
  const pinned = new Set<string>();
  let lastGood: SourceRevision | undefined;
  let restored = false;
  let mirrorReady: Promise<void> | undefined;
  // The last good revision survives a restart: a quorate started during a git
  // outage still has manifests for the rollouts it must supervise. One per branch.
  const lastGoodFile = join(root, `last-good.${encodeURIComponent(branch)}.json`);
  let queue: Promise<unknown> = Promise.resolve();

  // One git operation on the mirror at a time: fetches and worktree changes
  // take locks that a concurrent call would trip over.
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = queue.then(work, work);
    queue = run.catch(() => undefined);
    return run;
  }

  const git = (args: readonly string[], signal?: AbortSignal, cwd = mirror) =>
    runGit(cwd, args, { signal, timeoutMs });

  async function ensureMirror(): Promise<void> {
    mirrorReady ??= (async () => {
      await mkdir(root, { recursive: true });
      if (!(await isFile(join(mirror, "HEAD")))) {
        await runGit(root, ["init", "--bare", "--quiet", mirror], { timeoutMs });
      }
    })().catch((error) => {
      mirrorReady = undefined;
      throw error;
    });
    await mirrorReady;
  }

  function failure(
    reason: SourceFailureReason,
    message: string,
    refusedRevision?: string,
  ): SourceResult {
    const keeping = lastGood
      ? ` Keeping the last good revision ${lastGood.revision.slice(0, 12)}.`
      : " Nothing will be applied until a sync succeeds.";
    return {
      ok: false,
      reason,
      message: message + keeping,
      ...(refusedRevision ? { refusedRevision } : {}),
      ...(lastGood ? { lastGood: { revision: lastGood.revision, dir: lastGood.dir } } : {}),
    };
  }

  // Fetching a working directory takes the branch as committed, never the
  // files on disk: only committed state is applied, so what is applied always
  // has a revision to record on the stack and to audit later. Uncommitted
  // edits take effect once committed (`quorate run --watch` notices commits).
  async function fetchBranch(signal?: AbortSignal): Promise<SourceResult | undefined> {
    try {
      const refspec = `+refs/heads/${branch}:${trackingRef}`;
      await git(
        ["fetch", "--no-tags", "--progress", "--end-of-options", fetchTarget(location), refspec],
        signal,
      );
      return undefined;
    } catch (error) {
      signal?.throwIfAborted();
      const said = explain(error);
      if (/couldn't find remote ref/i.test(said)) {
        return failure(
          "branch-missing",
          `Branch "${branch}" does not exist in ${location.display}: check --branch (names are case-sensitive) or push the branch.`,
        );
      }
      return failure(
        "unreachable",
        `Cannot fetch branch "${branch}" from ${location.display}: ${said}. Check the address, the network and the credentials.`,
      );
    }
  }

  async function describeCommit(revision: string, signal?: AbortSignal) {
    const format = "--format=%cI%x00%an <%ae>%x00%s";
    const out = await git(["log", "-1", "--no-show-signature", format, revision, "--"], signal);
    const [committedAt = "", author = "", subject = ""] = out.stdout.replace(/\n$/, "").split("\0");
    return { committedAt, author, subject };
  }

  async function syncNow(signal?: AbortSignal): Promise<SourceResult> {
    signal?.throwIfAborted();
    try {
      await ensureMirror();
    } catch (error) {
      return failure(
        "checkout-failed",
        `Cannot set up the cache in ${root}: ${explain(error)}. Check free space and permissions there.`,
      );
    }
    await restoreLastGood();
    const unfetched = await fetchBranch(signal);
    if (unfetched) return unfetched;
    try {
      return await acceptHead(signal);
    } catch (error) {
      // git failing on its own cache: damaged by hand, or a disk problem.
      signal?.throwIfAborted();
      return failure(
        "checkout-failed",
        `Cannot read the fetched branch "${branch}" in ${root}: ${explain(error)}. Delete that directory; the next sync rebuilds it.`,
      );
    }
  }

  async function acceptHead(signal?: AbortSignal): Promise<SourceResult> {
    const rev = ["rev-parse", "--verify", "--end-of-options", `${trackingRef}^{commit}`];
    const head = (await git(rev, signal)).stdout.trim();
    if (lastGood?.revision === head && (await isDirectory(lastGood.dir))) {
      return { ok: true, changed: false, ...lastGood };
    }
    const commit = await describeCommit(head, signal);
    const shown = `${head.slice(0, 12)} ("${commit.subject}" by ${commit.author})`;
    let signer: string | undefined;
    if (verify) {
      // The head alone is verified: what is applied is exactly its tree, and
      // its signer vouches for that tree, whatever the history before it.
      const verdict = await verifyCommitSignature(mirror, head, verify, { signal });
      if (verdict.status === "unsigned") {
        return failure(
          "unsigned",
          `The head of "${branch}", ${shown}, is not signed, so it will not be applied. Sign it (git commit -S) with a key listed in ${describePolicy(verify)} and push again.`,
          head,
        );
      }
      if (verdict.status === "untrusted") {
        return failure(
          "untrusted-signature",
          `The head of "${branch}", ${shown}, is refused: ${verdict.detail}. Re-sign it with a key listed in ${describePolicy(verify)}, or add the signer's key there if it should be trusted.`,
          head,
        );
      }
      signer = verdict.signer;
    }
    let rewound: BranchRewind | undefined;
    if (lastGood && !(await descendsFrom(mirror, lastGood.revision, head, { signal, timeoutMs }))) {
      const kept = lastGood.revision.slice(0, 12);
      const what = `The head of "${branch}", ${shown}, does not descend from the last good revision ${kept}: the branch was rewound (force-pushed)`;
      // A valid signature does not make a rewind safe: pushing back an old
      // signed commit would undo every change after it, signed or not.
      if (verify && !options.allowRewind) {
        return failure(
          "rewound",
          `${what}, so it will not be applied. Push a commit on top of ${kept}, or restart quorate with --allow-rewind to accept the rewound branch.`,
          head,
        );
      }
      rewound = {
        from: lastGood.revision,
        message: `${what}, and quorate now reconciles it. If that was a mistake, push the dropped commits (up to ${kept}) back onto the branch.`,
      };
    }
    let dir: string;
    try {
      ({ dir } = await store.materialize(head, signal));
    } catch (error) {
      signal?.throwIfAborted();
      return failure(
        "checkout-failed",
        `Cannot check out ${shown} into ${root}: ${explain(error)}. Check free space and permissions there.`,
        head,
      );
    }
    const path = options.manifestsPath;
    if (path !== undefined && !(await exists(resolve(dir, path)))) {
      return failure(
        "path-missing",
        `The head of "${branch}", ${shown}, has no ${path}, so it is refused: nothing was applied or pruned. Restore the directory in git, or fix --path if the manifests moved; to delete every cluster, keep the directory (a .gitkeep) and delete the manifests in it.`,
        head,
      );
    }
    const previous = lastGood;
    lastGood = { revision: head, dir, ...commit, ...(signer ? { signer } : {}) };
    await saveLastGood(lastGood);
    const keep = new Set([head, ...pinned, ...(previous ? [previous.revision] : [])]);
    // After this sync has answered, before the next git operation starts:
    // removing old checkouts is not on the way from a commit to its pass.
    void exclusive(() => store.prune(keep).catch(() => undefined));
    return { ok: true, changed: true, ...lastGood, ...(rewound ? { rewound } : {}) };
  }

  async function saveLastGood(revision: SourceRevision): Promise<void> {
    const temporary = `${lastGoodFile}.${process.pid}.tmp`;
    try {
      await writeFile(temporary, `${JSON.stringify(revision)}\n`);
      await rename(temporary, lastGoodFile);
    } catch {
      // Only a restart during an outage would miss it; the sync itself succeeded.
    }
  }

  /** Once per process: the revision a previous process accepted, written out again if needed. */
  async function restoreLastGood(): Promise<void> {
    if (lastGood || restored) return;
    restored = true;
    try {
      const saved = JSON.parse(await readFile(lastGoodFile, "utf8")) as SourceRevision;
      if (!/^[0-9a-f]{40,64}$/.test(saved.revision)) return;
      const { dir } = await store.materialize(saved.revision);
      lastGood = { ...saved, dir };
    } catch {
      // No earlier revision, or its commit is gone from the cache: start from nothing.
    }
  }

  async function resolveRef(ref: string, signal?: AbortSignal): Promise<string | undefined> {
    for (const candidate of [ref, `refs/quorate/heads/${ref}`]) {
      try {
        const out = await git(
          ["rev-parse", "--verify", "--quiet", "--end-of-options", `${candidate}^{commit}`],
          signal,
        );
        return out.stdout.trim();
      } catch {
        signal?.throwIfAborted();
      }
    }
    return undefined;
  }

  return {
    display: location.display,
    branch,
    sync: (signal) => exclusive(() => syncNow(signal)),
    lastGood: () => (lastGood ? { revision: lastGood.revision, dir: lastGood.dir } : undefined),

    async readFileAtRevision(revision, path, signal) {
      await ensureMirror();
      const clean = normalizeRepoPath(path);
      const listing = await gitOrExplain(revision, () =>
        git(["ls-tree", "-z", "--end-of-options", revision, "--", clean], signal),
      );
      // "<mode> <type> <object>\t<path>\0"
      const entry = /^\d+ (\w+) ([0-9a-f]+)\t/.exec(listing.stdout);
      const [, type, object] = entry ?? [];
      if (type !== "blob" || !object) return undefined;
      return (await git(["cat-file", "blob", object], signal)).stdout;
    },

    async listChangedPaths(from, to, options = {}) {
      await ensureMirror();
      const scope = options.under ? [normalizeRepoPath(options.under)] : [];
      const out = await gitOrExplain(`${from}..${to}`, () =>
        git(
          [
            "diff",
            "--no-ext-diff",
            "--no-renames",
            "--name-status",
            "-z",
            "--end-of-options",
            from,
            to,
            "--",
            ...scope,
          ],
          options.signal,
        ),
      );
      return parseNameStatus(out.stdout);
    },

    materializeRevision: (ref, signal) =>
      exclusive(async () => {
        await ensureMirror();
        // A working directory names any revision (HEAD~1, main) as it is
        // there now; a remote is asked only for what the cache lacks, and
        // serves what it advertises (branches, tags, shas).
        const wanted = location.kind === "local" ? await resolveInWorkingCopy(ref, signal) : ref;
        let revision = await resolveRef(wanted, signal);
        if (!revision) {
          await gitOrExplain(ref, () =>
            git(["fetch", "--no-tags", "--end-of-options", fetchTarget(location), wanted], signal),
          );
          revision = await resolveRef("FETCH_HEAD", signal);
          if (!revision) throw terminal(`${ref} is not a commit in ${location.display}`);
        }
        pinned.add(revision);
        return store.materialize(revision, signal);
      }),
  };

  async function resolveInWorkingCopy(ref: string, signal?: AbortSignal): Promise<string> {
    const args = ["rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`];
    const out = await gitOrExplain(ref, () => git(args, signal, fetchTarget(location)));
    return out.stdout.trim();
  }

  async function gitOrExplain<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof GitCommandError)) throw error;
      throw terminal(
        `Cannot read ${what} in ${location.display}: ${summarizeGitError(error.stderr, error)}`,
        "sync the source first, or check that the revision exists on the branch",
        error,
      );
    }
  }
}

function explain(error: unknown): string {
  if (error instanceof GitCommandError) return summarizeGitError(error.stderr, error);
  return error instanceof Error ? error.message : String(error);
}

/** `git diff --name-status -z` output: "M\0path\0A\0path\0...". Pure. */
export function parseNameStatus(output: string): ChangedPath[] {
  const fields = output.split("\0");
  const changes: ChangedPath[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const status = fields[i]!;
    const path = fields[i + 1]!;
    if (status === "") break;
    const change = status.startsWith("A")
      ? "added"
      : status.startsWith("D")
        ? "deleted"
        : "modified";
    changes.push({ path, change });
  }
  return changes;
}

/** Repository-relative, forward slashes, no leading "./" or "/". */
function normalizeRepoPath(path: string): string {
  const clean = path
    .replace(/\\/g, "/")
    .replace(/^(\.\/|\/)+/, "")
    .replace(/\/+$/, "");
  if (clean.split("/").includes("..")) throw terminal(`path ${path} leaves the repository`);
  return clean === "" ? "." : clean;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
