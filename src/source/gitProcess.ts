// Running git through simple-git: one process per call, the operator's
// environment passed on, stdout and stderr both kept, failures as values
// that say which command failed and what git said.
import { type SimpleGitOptions, simpleGit } from "simple-git";
import { redactCredentials } from "./repoLocation.js";

export interface RunGitOptions {
  readonly signal?: AbortSignal | undefined;
  /** Kill git after this long without output (simple-git's block timeout). */
  readonly timeoutMs?: number | undefined;
  /** Added to (and overriding) the inherited environment. */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /**
   * Ignore the user's and the system's git configuration. Used for signature
   * checks, whose verdict must not depend on ambient settings such as
   * gpg.ssh.allowedSignersFile or gpg.minTrustLevel.
   */
  readonly isolateConfig?: boolean | undefined;
}

export interface GitOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** git exited non-zero, timed out or could not start. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    cause?: unknown,
  ) {
    super(`git ${args[0] ?? ""} failed: ${summarizeGitError(stderr, cause)}`, { cause });
    this.name = "GitCommandError";
  }
}

export const DEFAULT_GIT_TIMEOUT_MS = 120_000;

type UnsafeFlag = keyof NonNullable<SimpleGitOptions["unsafe"]>;

// Variables that would point git at another repository (set when quorate
// itself runs from a git hook) or make it interactive. quorate never wants them.
const DROPPED = new Set([
  "git_dir",
  "git_work_tree",
  "git_index_file",
  "git_object_directory",
  "git_alternate_object_directories",
  "git_common_dir",
  "git_namespace",
  "git_prefix",
  "git_quarantine_path",
  "git_editor",
  "git_sequence_editor",
  "git_pager",
  "git_external_diff",
  "editor",
  "visual",
  "pager",
]);

// simple-git refuses these unless the matching `unsafe` flag is set (see
// @simple-git/argv-parser). They come from the operator's own environment
// (deploy keys through GIT_SSH_COMMAND, an askpass helper), which quorate
// trusts as git would if the operator ran it by hand.
const UNSAFE_BY_KEY: Readonly<Record<string, UnsafeFlag>> = {
  git_askpass: "allowUnsafeAskPass",
  ssh_askpass: "allowUnsafeAskPass",
  git_ssh: "allowUnsafeSshCommand",
  git_ssh_command: "allowUnsafeSshCommand",
  git_config: "allowUnsafeConfigPaths",
  git_config_global: "allowUnsafeConfigPaths",
  git_config_system: "allowUnsafeConfigPaths",
  prefix: "allowUnsafeConfigPaths",
  git_config_count: "allowUnsafeConfigEnvCount",
  git_config_parameters: "allowUnsafeConfigEnvCount",
  git_proxy_command: "allowUnsafeGitProxy",
  git_exec_path: "allowUnsafeExec",
  git_template_dir: "allowUnsafeTemplateDir",
};

/**
 * simple-git strips every GIT_* variable it inherits (GIT_SSL_CAINFO,
 * GIT_SSH_COMMAND...), which would silently break authentication and proxies.
 * Pass the environment explicitly and name what it may keep.
 */
function gitEnvironment(options: RunGitOptions): Pick<
  SimpleGitOptions,
  "allowEnvironment" | "unsafe"
> & {
  env: Record<string, string>;
} {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !DROPPED.has(key.toLowerCase())) env[key] = value;
  }
  // Never prompt for a password: a daemon has no terminal. C locale: stable messages to classify.
  Object.assign(env, { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", LANGUAGE: "" });
  if (options.isolateConfig) {
    Object.assign(env, { GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" });
  }
  Object.assign(env, options.env);
  const allowEnvironment: string[] = [];
  const unsafe: Partial<Record<UnsafeFlag, boolean>> = {};
  for (const key of Object.keys(env)) {
    const lower = key.toLowerCase();
    const flag = UNSAFE_BY_KEY[lower];
    if (lower.startsWith("git_") || flag) allowEnvironment.push(key);
    if (flag) unsafe[flag] = true;
  }
  return { env, allowEnvironment, unsafe };
}

/** Run `git <args>` in `cwd`; resolves on exit code 0, rejects with GitCommandError otherwise. */
export async function runGit(
  cwd: string,
  args: readonly string[],
  options: RunGitOptions = {},
): Promise<GitOutput> {
  options.signal?.throwIfAborted();
  const { env, allowEnvironment, unsafe } = gitEnvironment(options);
  let stderr = "";
  let exitCode: number | undefined;
  const git = simpleGit({
    baseDir: cwd,
    trimmed: false,
    allowEnvironment,
    unsafe,
    timeout: { block: options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS },
    ...(options.signal ? { abort: options.signal } : {}),
    // Called after every run, failed or not: keep stderr (ssh and gpg report
    // signatures there) and fail on any non-zero exit, which simple-git's
    // default treats as success when stderr is empty.
    errors(error, result) {
      stderr = Buffer.concat(result.stdErr).toString("utf8");
      exitCode = result.exitCode;
      if (error || result.exitCode !== 0) return new Error(stderr || String(error ?? ""));
      return undefined;
    },
  }).env(env);
  try {
    const stdout = await git.raw([...args]);
    return { stdout, stderr };
  } catch (error) {
    options.signal?.throwIfAborted();
    throw new GitCommandError(args, exitCode, stderr, error);
  }
}

/**
 * git's own words, for an operator: the `fatal:`/`error:` lines (or the
 * first lines), one sentence per line, credentials removed.
 */
export function summarizeGitError(stderr: string, cause?: unknown): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("remote: ") && !line.startsWith("hint:"));
  const important = lines.filter((line) => /^(fatal|error):/.test(line));
  const chosen = (important.length > 0 ? important : lines.slice(0, 3)).map((line) =>
    line.replace(/^(fatal|error):\s*/, ""),
  );
  if (chosen.length === 0) {
    return cause instanceof Error ? redactCredentials(cause.message) : "no output from git";
  }
  return redactCredentials(chosen.join("; "));
}
