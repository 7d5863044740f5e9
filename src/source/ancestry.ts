// Whether a new head continues the history quorate last accepted. A head that
// does not is a rewound branch (a force-push): it may drop applied commits, or
// bring back an old commit whose signature is as valid today as it was then.
// https://git-scm.com/docs/git-merge-base#Documentation/git-merge-base.txt---is-ancestor
import { GitCommandError, runGit } from "./gitProcess.js";

/** True when `ancestor` is `head` or one of its ancestors. Both must be in `repoDir`. */
export async function descendsFrom(
  repoDir: string,
  ancestor: string,
  head: string,
  options: { readonly signal?: AbortSignal | undefined; readonly timeoutMs?: number | undefined },
): Promise<boolean> {
  try {
    await runGit(
      repoDir,
      ["merge-base", "--is-ancestor", "--end-of-options", ancestor, head],
      options,
    );
    return true;
  } catch (error) {
    // Exit 1 is git's "no"; anything else (a missing object, a damaged cache) is an error.
    if (error instanceof GitCommandError && error.exitCode === 1) return false;
    throw error;
  }
}
