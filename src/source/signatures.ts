// Commit signature verification with real git (`git verify-commit --raw`).
// The policy's key list is the whole trust anchor: a key in the keyring or
// the allowed signers file is trusted, any other signer is not, and nothing
// from the user's own git or GnuPG setup takes part.
// https://git-scm.com/docs/git-verify-commit
// https://man.openbsd.org/ssh-keygen#ALLOWED_SIGNERS
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, copyFile, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { GitCommandError, runGit } from "./gitProcess.js";

export type SignaturePolicy =
  /** keyring: a file written by `gpg --export [--armor]`, or a GnuPG home directory. */
  | { readonly mode: "gpg"; readonly keyring: string }
  /** allowedSigners: an ssh allowed_signers file (`principal key-type key`). */
  | { readonly mode: "ssh"; readonly allowedSigners: string };

export type SignatureFormat = "gpg" | "ssh" | "x509";

export type SignatureVerdict =
  | {
      readonly status: "trusted";
      readonly format: "gpg" | "ssh";
      /** ssh: the allowed-signers principal; gpg: the key's user id. */
      readonly signer: string;
      /** ssh: `ED25519 SHA256:...`; gpg: the primary key fingerprint. */
      readonly key: string;
    }
  | { readonly status: "unsigned" }
  | {
      readonly status: "untrusted";
      readonly format?: SignatureFormat;
      readonly signer?: string;
      readonly key?: string;
      /** Why, in a sentence. */
      readonly detail: string;
    };

const execFileAsync = promisify(execFile);
const TOOL_TIMEOUT_MS = 30_000;

/** "the allowed signers file /etc/quorate/allowed_signers", for messages. */
export function describePolicy(policy: SignaturePolicy): string {
  return policy.mode === "ssh"
    ? `the allowed signers file ${resolve(policy.allowedSigners)}`
    : `the GnuPG keyring ${resolve(policy.keyring)}`;
}

/**
 * The format of the commit's own signature (the `gpgsig` header; sha256
 * repositories use `gpgsig-sha256`), or undefined when it has none. Pure.
 * https://git-scm.com/docs/signature-format#_commit_signatures
 */
export function commitSignatureFormat(rawCommit: string): SignatureFormat | "unknown" | undefined {
  const headerEnd = rawCommit.indexOf("\n\n");
  const header = headerEnd >= 0 ? rawCommit.slice(0, headerEnd) : rawCommit;
  const match = /^gpgsig(?:-sha256)? (.*)$/m.exec(header);
  if (!match) return undefined;
  const armor = match[1] ?? "";
  if (armor.includes("BEGIN SSH SIGNATURE")) return "ssh";
  if (armor.includes("BEGIN PGP SIGNATURE")) return "gpg";
  if (armor.includes("BEGIN SIGNED MESSAGE")) return "x509";
  return "unknown";
}

/** Verify `revision` in the repository at `gitDir` against `policy`. */
export async function verifyCommitSignature(
  gitDir: string,
  revision: string,
  policy: SignaturePolicy,
  options: { readonly signal?: AbortSignal | undefined } = {},
): Promise<SignatureVerdict> {
  const raw = await runGit(gitDir, ["cat-file", "commit", revision], options);
  const format = commitSignatureFormat(raw.stdout);
  if (format === undefined) return { status: "unsigned" };
  // git picks the verifier from the signature itself, not from gpg.format: a
  // PGP signature checked under an ssh policy would consult the user's own
  // GnuPG keyring. Refuse a format the policy does not cover before that.
  if (format !== policy.mode) {
    return {
      status: "untrusted",
      format: format === "unknown" ? undefined : format,
      detail: `it carries a ${format} signature, but only ${policy.mode} signatures are accepted`,
    };
  }
  return policy.mode === "ssh"
    ? verifySsh(gitDir, revision, policy.allowedSigners, options.signal)
    : verifyGpg(gitDir, revision, policy.keyring, options.signal);
}

async function verifySsh(
  gitDir: string,
  revision: string,
  allowedSigners: string,
  signal: AbortSignal | undefined,
): Promise<SignatureVerdict> {
  const file = resolve(allowedSigners);
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    return unverifiable("ssh", `the allowed signers file ${file} cannot be read (${code(error)})`);
  }
  const args = [
    "-c",
    "gpg.format=ssh",
    "-c",
    `gpg.ssh.allowedSignersFile=${file}`,
    "verify-commit",
    "--raw",
    revision,
  ];
  const { exitCode, stderr } = await verifyCommand(gitDir, args, signal, {});
  return parseSshVerification(stderr, exitCode);
}

/** ssh-keygen's verdict as git relays it. Pure. */
export function parseSshVerification(stderr: string, exitCode: number): SignatureVerdict {
  const good = /Good "git" signature for (.+?) with (\S+) key (\S+)/.exec(stderr);
  if (good && exitCode === 0) {
    return { status: "trusted", format: "ssh", signer: good[1]!, key: `${good[2]} ${good[3]}` };
  }
  const unknownKey = /Good "git" signature with (\S+) key (\S+)/.exec(stderr);
  if (unknownKey) {
    return {
      status: "untrusted",
      format: "ssh",
      key: `${unknownKey[1]} ${unknownKey[2]}`,
      detail: `it is signed with ssh key ${unknownKey[1]} ${unknownKey[2]}, which is not an allowed signer`,
    };
  }
  return doesNotVerify("ssh", stderr, exitCode);
}

async function verifyGpg(
  gitDir: string,
  revision: string,
  keyring: string,
  signal: AbortSignal | undefined,
): Promise<SignatureVerdict> {
  // A private copy: gpg writes to its home (trustdb, locks, an agent socket),
  // and the operator's keyring must neither change nor add keys of its own.
  const home = await mkdtemp(join(tmpdir(), "quorate-gnupg-"));
  try {
    const problem = await loadKeyring(home, resolve(keyring), signal);
    if (problem) return unverifiable("gpg", problem);
    const args = ["-c", "gpg.format=openpgp", "verify-commit", "--raw", revision];
    const { exitCode, stderr } = await verifyCommand(gitDir, args, signal, { GNUPGHOME: home });
    return parseGpgStatus(stderr, exitCode);
  } finally {
    await stopGpgAgent(home);
    await rm(home, { recursive: true, force: true });
  }
}

/** Import or copy the policy's public keys into `home`; a problem in words, or undefined. */
async function loadKeyring(
  home: string,
  keyring: string,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(keyring)).isDirectory();
  } catch (error) {
    return `the keyring ${keyring} cannot be read (${code(error)})`;
  }
  if (isDirectory) {
    // Public keys only: never copy private-keys-v1.d.
    let copied = 0;
    for (const name of ["pubring.kbx", "pubring.gpg", "trustdb.gpg"]) {
      try {
        await copyFile(join(keyring, name), join(home, name));
        copied += 1;
      } catch {
        // absent in this layout
      }
    }
    return copied > 0 ? undefined : `the directory ${keyring} holds no pubring.kbx or pubring.gpg`;
  }
  try {
    await execFileAsync(
      "gpg",
      ["--batch", "--no-tty", "--quiet", "--homedir", home, "--import", keyring],
      { timeout: TOOL_TIMEOUT_MS, signal },
    );
    return undefined;
  } catch (error) {
    signal?.throwIfAborted();
    if (code(error) === "ENOENT") return "gpg is not installed on this machine";
    const text = (error as { stderr?: string }).stderr?.trim() || code(error);
    return `gpg cannot import the keyring ${keyring}: ${text}`;
  }
}

/** gpg may have started an agent for this home (its socket can live under /run/user): stop it. */
async function stopGpgAgent(home: string): Promise<void> {
  await execFileAsync("gpgconf", ["--homedir", home, "--kill", "all"], {
    timeout: TOOL_TIMEOUT_MS,
  }).catch(() => undefined);
}

/** gpg's machine-readable status lines, as `git verify-commit --raw` prints them. Pure. */
export function parseGpgStatus(stderr: string, exitCode: number): SignatureVerdict {
  const status = (keyword: string) =>
    new RegExp(`^\\[GNUPG:\\] ${keyword} (\\S+)(?: (.*))?$`, "m").exec(stderr);
  const good = status("GOODSIG");
  const valid = status("VALIDSIG");
  if (good && valid && exitCode === 0) {
    return { status: "trusted", format: "gpg", signer: good[2] ?? good[1]!, key: valid[1]! };
  }
  const refusals: readonly [string, (id: string, uid: string | undefined) => string][] = [
    ["BADSIG", () => "its gpg signature does not match the commit (altered after signing?)"],
    ["EXPKEYSIG", (id, uid) => `it is signed by ${uid ?? id} with an expired key`],
    ["REVKEYSIG", (id, uid) => `it is signed by ${uid ?? id} with a revoked key`],
    ["EXPSIG", (id, uid) => `its signature by ${uid ?? id} has expired`],
    ["NO_PUBKEY", (id) => `it is signed by gpg key ${id}, which is not in the keyring`],
    ["ERRSIG", (id) => `its gpg signature by key ${id} cannot be checked`],
  ];
  for (const [keyword, describe] of refusals) {
    const match = status(keyword);
    if (match) {
      return {
        status: "untrusted",
        format: "gpg",
        key: match[1]!,
        detail: describe(match[1]!, match[2]),
      };
    }
  }
  return doesNotVerify("gpg", stderr, exitCode);
}

/** verify-commit exits non-zero for every refusal; its stderr is the verdict either way. */
async function verifyCommand(
  gitDir: string,
  args: readonly string[],
  signal: AbortSignal | undefined,
  env: Record<string, string>,
): Promise<{ exitCode: number; stderr: string }> {
  try {
    const { stderr } = await runGit(gitDir, args, { signal, env, isolateConfig: true });
    return { exitCode: 0, stderr };
  } catch (error) {
    if (!(error instanceof GitCommandError)) throw error;
    return { exitCode: error.exitCode ?? 1, stderr: error.stderr };
  }
}

/** A refusal git or the tool explained in words of its own. */
function doesNotVerify(format: "gpg" | "ssh", stderr: string, exitCode: number): SignatureVerdict {
  const said = firstLine(stderr) ?? `git verify-commit exited with ${exitCode}`;
  return {
    status: "untrusted",
    format,
    detail: `its ${format} signature does not verify: ${said}`,
  };
}

function unverifiable(format: "gpg" | "ssh", problem: string): SignatureVerdict {
  return { status: "untrusted", format, detail: `it cannot be verified: ${problem}` };
}

function firstLine(text: string): string | undefined {
  return text
    .split("\n")
    .map((line) => line.trim())
    .find((line) => line !== "" && !line.startsWith("[GNUPG:]"));
}

function code(error: unknown): string {
  const withCode = error as { code?: unknown; message?: unknown };
  return typeof withCode.code === "string" ? withCode.code : String(withCode.message ?? error);
}
