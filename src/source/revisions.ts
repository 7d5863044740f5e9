// Revisions written out as detached `git worktree`s of the cache's bare
// mirror, one directory per commit (`<cache>/revisions/<sha>`). A directory
// is named after exactly the commit it holds, so a path handed to the
// reconciler never changes under it, and the user's own working directory is
// never touched. https://git-scm.com/docs/git-worktree
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { runGit } from "./gitProcess.js";
import type { MaterializedRevision } from "./types.js";

const FULL_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export interface RevisionStore {
  /** Check out `revision` (a full sha present in the mirror) if it is not already. */
  materialize(revision: string, signal?: AbortSignal): Promise<MaterializedRevision>;
  /** Remove every checkout whose revision is not in `keep`. */
  prune(keep: ReadonlySet<string>): Promise<void>;
}

export function createRevisionStore(
  mirrorDir: string,
  revisionsDir: string,
  timeoutMs: number | undefined,
): RevisionStore {
  // Checkouts known to be intact in this process. One left by an earlier
  // process (which may have died half-way through) is checked before reuse.
  const intact = new Set<string>();
  let started: Promise<void> | undefined;

  async function start(): Promise<void> {
    await mkdir(revisionsDir, { recursive: true });
    await runGit(mirrorDir, ["worktree", "prune"], { timeoutMs });
  }

  async function isIntact(dir: string, revision: string, signal?: AbortSignal): Promise<boolean> {
    try {
      const head = await runGit(dir, ["rev-parse", "HEAD"], { signal, timeoutMs });
      if (head.stdout.trim() !== revision) return false;
      // Anything here, tracked or not, ignored or not, would be read as a manifest.
      const status = await runGit(
        dir,
        ["status", "--porcelain", "--untracked-files=all", "--ignored"],
        { signal, timeoutMs },
      );
      return status.stdout.trim() === "";
    } catch {
      signal?.throwIfAborted();
      return false;
    }
  }

  async function remove(dir: string): Promise<void> {
    try {
      await runGit(mirrorDir, ["worktree", "remove", "--force", "--force", dir], { timeoutMs });
    } catch {
      // Not a registered worktree (or half made): drop the files, then git's record of it.
      await rm(dir, { recursive: true, force: true });
      await runGit(mirrorDir, ["worktree", "prune"], { timeoutMs }).catch(() => undefined);
    }
  }

  return {
    async materialize(revision, signal) {
      if (!FULL_SHA.test(revision)) throw new Error(`not a full commit sha: ${revision}`);
      started ??= start();
      await started;
      const dir = join(revisionsDir, revision);
      if (intact.has(revision) && (await exists(dir))) return { revision, dir };
      if (await exists(dir)) {
        if (await isIntact(dir, revision, signal)) {
          intact.add(revision);
          return { revision, dir };
        }
        await remove(dir);
      }
      try {
        // Not --quiet: simple-git waits 50 ms after a process that printed nothing.
        await runGit(mirrorDir, ["worktree", "add", "--detach", dir, revision], {
          signal,
          timeoutMs,
        });
      } catch (error) {
        await remove(dir);
        throw error;
      }
      intact.add(revision);
      return { revision, dir };
    },

    async prune(keep) {
      const names = await readdir(revisionsDir).catch(() => [] as string[]);
      for (const name of names) {
        if (!FULL_SHA.test(name) || keep.has(name)) continue;
        intact.delete(name);
        await remove(join(revisionsDir, name));
      }
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
