// A debounced watch of a local working directory (chokidar), for
// `quorate run --watch` and the demo. It only says *that* something changed;
// the daemon then syncs, and a sync applies committed state only (see
// git.ts). That is why the branch refs under .git are watched too: a
// `git commit` changes nothing in the working tree but moves
// .git/refs/heads/<branch> (or packed-refs), and that is the change that
// gives the daemon something new to apply.
import { relative, sep } from "node:path";
import { watch } from "chokidar";

/** A path relative to the watched directory (forward slashes), ignored when it matches. */
export type IgnoreRule = string | RegExp | ((path: string) => boolean);

export interface WatchDirectoryOptions {
  /** Quiet time after the last event before `onChange` runs. Default 100 ms. */
  readonly debounceMs?: number;
  /** Run `onChange` at the latest this long after the first event of a burst. Default 1 s. */
  readonly maxWaitMs?: number;
  /** Changed paths, relative and sorted; one call per burst, never two at once. */
  readonly onChange: (paths: readonly string[]) => void | Promise<void>;
  /** Rules on top of the defaults (.git internals, node_modules, .quorate); a string is a path prefix. */
  readonly ignore?: readonly IgnoreRule[];
  /** Watcher errors and errors thrown by `onChange`. Default: a process warning. */
  readonly onError?: (error: unknown) => void;
}

export interface DirectoryWatch {
  close(): Promise<void>;
}

const GIT_REF_PATHS = [/^\.git\/refs\/heads(\/.*)?$/, /^\.git\/packed-refs$/];
// The cache (.quorate) may live inside the working directory: a sync writes
// there, and watching it would make every sync trigger the next one.
const DEFAULT_IGNORES: readonly IgnoreRule[] = ["node_modules", ".quorate"];

/** Whether a batch includes a moved branch ref, i.e. a new commit to apply. */
export function touchesGitRefs(paths: readonly string[]): boolean {
  return paths.some((path) => GIT_REF_PATHS.some((pattern) => pattern.test(path)));
}

/** Pure: is this relative path outside what the watch reports? */
export function isIgnoredPath(path: string, rules: readonly IgnoreRule[]): boolean {
  if (path === "" || path === ".git" || path === ".git/refs") return false; // ancestors of the refs
  if (path.endsWith(".lock")) return true; // git writes refs through .lock files, then renames
  if (path.startsWith(".git/")) return !touchesGitRefs([path]);
  return [...DEFAULT_IGNORES, ...rules].some((rule) => {
    if (typeof rule === "function") return rule(path);
    if (rule instanceof RegExp) return rule.test(path);
    const prefix = rule.replace(/\/+$/, "");
    return path === prefix || path.startsWith(`${prefix}/`);
  });
}

/**
 * Watch `dir` until `close()`. Resolves once the initial scan is done; files
 * that exist by then never count as changes.
 */
export async function watchDirectory(
  dir: string,
  options: WatchDirectoryOptions,
): Promise<DirectoryWatch> {
  const debounceMs = options.debounceMs ?? 100;
  const maxWaitMs = options.maxWaitMs ?? 1000;
  const rules = options.ignore ?? [];
  const reportError =
    options.onError ?? ((error: unknown) => process.emitWarning(`quorate watch: ${String(error)}`));
  const toRelative = (path: string) => relative(dir, path).split(sep).join("/");

  let pending = new Set<string>();
  let quietTimer: NodeJS.Timeout | undefined;
  let burstTimer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  function flush(): void {
    clearTimeout(quietTimer);
    clearTimeout(burstTimer);
    quietTimer = burstTimer = undefined;
    if (closed || pending.size === 0) return;
    if (running) return; // the running callback flushes again when it ends
    const paths = [...pending].sort();
    pending = new Set();
    running = (async () => {
      try {
        await options.onChange(paths);
      } catch (error) {
        reportError(error);
      }
    })().finally(() => {
      running = undefined;
      if (pending.size > 0) schedule();
    });
  }

  function schedule(): void {
    clearTimeout(quietTimer);
    quietTimer = setTimeout(flush, debounceMs);
    burstTimer ??= setTimeout(flush, maxWaitMs);
  }

  const watcher = watch(dir, {
    ignoreInitial: true,
    ignored: (path: string) => isIgnoredPath(toRelative(path), rules),
  });
  watcher.on("all", (event, path) => {
    // Directories appearing or going away carry no content of their own.
    if (closed || event === "addDir") return;
    pending.add(toRelative(path));
    schedule();
  });
  watcher.on("error", reportError);
  await new Promise<void>((ready) => watcher.once("ready", ready));

  return {
    async close() {
      closed = true;
      clearTimeout(quietTimer);
      clearTimeout(burstTimer);
      await watcher.close();
      await running;
    },
  };
}
