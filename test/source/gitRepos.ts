// Real git on temporary repositories for the source tests: a bare repository
// stands in for the remote, a clone of it for the operator's working copy.
// Identity is given per command and the user's global config is ignored, so
// tests neither depend on nor touch it.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const TEST_AUTHOR = "Quorate Test <test@quorate.invalid>";

const IDENTITY = [
  "-c",
  "user.name=Quorate Test",
  "-c",
  "user.email=test@quorate.invalid",
  "-c",
  "commit.gpgsign=false",
  "-c",
  "init.defaultBranch=main",
];

/** The environment git runs with in tests: no global or system config, no inherited repo. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR"])
    delete env[key];
  return { ...env, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", ...extra };
}

export async function git(
  cwd: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<string> {
  const { stdout } = await execFileAsync("git", [...IDENTITY, ...args], {
    cwd,
    env: testEnv(env),
  });
  return stdout.trim();
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `quorate-${prefix}-`));
}

export async function removeDir(dir: string | undefined): Promise<void> {
  if (dir) await rm(dir, { recursive: true, force: true });
}

export interface RemoteAndClone {
  /** The bare repository the source fetches from. */
  readonly remote: string;
  /** A working copy that pushes to it. */
  readonly work: string;
}

/** A bare "remote" under `root` and a working clone with branch main (no commits yet). */
export async function createRemote(root: string): Promise<RemoteAndClone> {
  const remote = join(root, "remote.git");
  const work = join(root, "work");
  await git(root, ["init", "--quiet", "--bare", remote]);
  await git(root, ["init", "--quiet", work]);
  await git(work, ["remote", "add", "origin", remote]);
  return { remote, work };
}

export type Signing =
  | { readonly format: "ssh"; readonly key: string }
  | { readonly format: "gpg"; readonly key: string; readonly gnupgHome: string };

/**
 * Write (or delete, with null) files in `work`, commit them and return the
 * sha. With `push`, push the current branch to origin.
 */
export async function commit(
  work: string,
  files: Readonly<Record<string, string | null>>,
  message: string,
  options: { readonly sign?: Signing; readonly push?: boolean } = {},
): Promise<string> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(work, path);
    if (content === null) {
      await rm(full, { force: true });
    } else {
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content);
    }
  }
  await git(work, ["add", "--all"]);
  const sign = options.sign;
  const signArgs =
    sign?.format === "ssh"
      ? ["-c", "gpg.format=ssh", "-c", `user.signingkey=${sign.key}`]
      : sign?.format === "gpg"
        ? ["-c", "gpg.format=openpgp", "-c", `user.signingkey=${sign.key}`]
        : [];
  const env: Record<string, string> = sign?.format === "gpg" ? { GNUPGHOME: sign.gnupgHome } : {};
  await git(
    work,
    [...signArgs, "commit", "--quiet", "--allow-empty", ...(sign ? ["-S"] : []), "-m", message],
    env,
  );
  if (options.push) await git(work, ["push", "--quiet", "origin", "HEAD"]);
  return git(work, ["rev-parse", "HEAD"]);
}

/** Every file under `dir`, relative and sorted, without .git. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .filter((path) => path !== ".git" && !path.startsWith(".git/"))
    .sort();
}
