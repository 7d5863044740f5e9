// Signature verification against real git, ssh-keygen and (when installed) gpg.
// The story: with --verify-signatures on, only heads signed by a trusted key
// are ever written out as the revision to apply.
import { execFile, execFileSync } from "node:child_process";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGitSource } from "../../src/source/git.js";
import type { SignaturePolicy } from "../../src/source/signatures.js";
import type { SourceResult } from "../../src/source/types.js";
import {
  commit,
  createRemote,
  type RemoteAndClone,
  removeDir,
  type Signing,
  tempDir,
} from "../source/gitRepos.js";

const execFileAsync = promisify(execFile);

function installed(tool: string, versionFlag: string): boolean {
  try {
    execFileSync(tool, [versionFlag], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const HAS_GPG = installed("gpg", "--version");

let root: string;
let repos: RemoteAndClone;
let cacheCount = 0;

function source(verify: SignaturePolicy) {
  cacheCount += 1;
  return createGitSource({
    repo: repos.remote,
    branch: "main",
    cacheDir: join(root, `cache-${cacheCount}`),
    verify,
  });
}

/** What a reconcile pass would apply: only an ok result's revision. */
function applied(result: SourceResult): string | undefined {
  return result.ok ? result.revision : undefined;
}

async function checkedOut(result: SourceResult): Promise<string[]> {
  const dir = result.ok ? result.dir : result.lastGood?.dir;
  if (!dir) return [];
  return readdir(join(dir, ".."));
}

beforeAll(async () => {
  root = await tempDir("source-signatures");
  repos = await createRemote(root);
});

afterAll(async () => {
  await removeDir(root);
});

describe("ssh signatures", () => {
  let alice: Signing;
  let mallory: Signing;
  let policy: SignaturePolicy;

  beforeAll(async () => {
    for (const name of ["alice", "mallory"]) {
      await execFileAsync("ssh-keygen", [
        "-q",
        "-t",
        "ed25519",
        "-N",
        "",
        "-C",
        name,
        "-f",
        join(root, name),
      ]);
    }
    alice = { format: "ssh", key: join(root, "alice") };
    mallory = { format: "ssh", key: join(root, "mallory") };
    const alicePub = (await execFileAsync("ssh-keygen", ["-y", "-f", alice.key])).stdout.trim();
    const allowedSigners = join(root, "allowed_signers");
    await writeFile(allowedSigners, `alice@example.com ${alicePub}\n`);
    policy = { mode: "ssh", allowedSigners };
  });

  it("applies a head signed by an allowed signer and names the signer", async () => {
    const sha = await commit(repos.work, { "clusters/dev.yaml": "a: 1\n" }, "Signed by alice", {
      sign: alice,
      push: true,
    });
    const result = await source(policy).sync();
    expect(result).toMatchObject({ ok: true, revision: sha, signer: "alice@example.com" });
  });

  it("refuses an unsigned head, keeps the last good one, and never writes it out", async () => {
    const src = source(policy);
    const good = await src.sync();
    expect(good.ok).toBe(true);

    const unsigned = await commit(repos.work, { "clusters/dev.yaml": "a: 2\n" }, "Not signed", {
      push: true,
    });
    const result = await src.sync();

    expect(result).toMatchObject({
      ok: false,
      reason: "unsigned",
      refusedRevision: unsigned,
      lastGood: { revision: applied(good) },
    });
    expect(applied(result)).toBeUndefined();
    if (!result.ok) {
      expect(result.message).toContain(`The head of "main", ${unsigned.slice(0, 12)}`);
      expect(result.message).toContain("is not signed, so it will not be applied");
      expect(result.message).toContain(policy.mode === "ssh" ? policy.allowedSigners : "");
    }
    expect(await checkedOut(result)).not.toContain(unsigned);
  });

  it("refuses a head signed by a key that is not an allowed signer", async () => {
    const sha = await commit(repos.work, { "clusters/dev.yaml": "a: 3\n" }, "Signed by mallory", {
      sign: mallory,
      push: true,
    });
    const result = await source(policy).sync();
    expect(result).toMatchObject({
      ok: false,
      reason: "untrusted-signature",
      refusedRevision: sha,
    });
    expect(result.ok ? "" : result.message).toMatch(
      /signed with ssh key ED25519 SHA256:\S+, which is not an allowed signer/,
    );
    expect(result.ok ? undefined : result.lastGood).toBeUndefined();
  });

  it("refuses everything when the allowed signers file is missing", async () => {
    await commit(repos.work, { "clusters/dev.yaml": "a: 4\n" }, "Signed by alice again", {
      sign: alice,
      push: true,
    });
    const missing = join(root, "no-such-file");
    const result = await source({ mode: "ssh", allowedSigners: missing }).sync();
    expect(result).toMatchObject({ ok: false, reason: "untrusted-signature" });
    expect(result.ok ? "" : result.message).toContain(
      `the allowed signers file ${missing} cannot be read`,
    );
  });
});

describe.skipIf(!HAS_GPG)("gpg signatures (needs gpg: apt-get install gnupg)", () => {
  let signerHome: string;
  let strangerHome: string;
  let bob: Signing;
  let eve: Signing;
  let keyring: string;

  async function gpg(home: string, args: readonly string[]): Promise<string> {
    const { stdout } = await execFileAsync("gpg", [
      "--batch",
      "--quiet",
      "--homedir",
      home,
      ...args,
    ]);
    return stdout;
  }

  async function newKey(home: string, uid: string): Promise<string> {
    await gpg(home, ["--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"]);
    const listing = await gpg(home, ["--list-keys", "--with-colons", uid]);
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(listing)?.[1];
    if (!fingerprint) throw new Error(`no fingerprint for ${uid}`);
    return fingerprint;
  }

  beforeAll(async () => {
    signerHome = await tempDir("gnupg-bob");
    strangerHome = await tempDir("gnupg-eve");
    bob = {
      format: "gpg",
      key: await newKey(signerHome, "Bob <bob@example.com>"),
      gnupgHome: signerHome,
    };
    eve = {
      format: "gpg",
      key: await newKey(strangerHome, "Eve <eve@example.com>"),
      gnupgHome: strangerHome,
    };
    keyring = join(root, "trusted.asc");
    await writeFile(keyring, await gpg(signerHome, ["--export", "--armor", bob.key]));
  });

  afterAll(async () => {
    for (const home of [signerHome, strangerHome]) {
      if (!home) continue;
      await execFileAsync("gpgconf", ["--homedir", home, "--kill", "all"]).catch(() => undefined);
      await removeDir(home);
    }
  });

  it("applies a head signed by a key in an exported keyring, or in a GnuPG home", async () => {
    const sha = await commit(repos.work, { "clusters/dev.yaml": "b: 1\n" }, "Signed by bob", {
      sign: bob,
      push: true,
    });
    expect(await source({ mode: "gpg", keyring }).sync()).toMatchObject({
      ok: true,
      revision: sha,
      signer: "Bob <bob@example.com>",
    });
    expect(await source({ mode: "gpg", keyring: signerHome }).sync()).toMatchObject({
      ok: true,
      revision: sha,
    });
  });

  it("refuses a head signed by a key that is not in the keyring", async () => {
    const sha = await commit(repos.work, { "clusters/dev.yaml": "b: 2\n" }, "Signed by eve", {
      sign: eve,
      push: true,
    });
    const result = await source({ mode: "gpg", keyring }).sync();
    expect(result).toMatchObject({
      ok: false,
      reason: "untrusted-signature",
      refusedRevision: sha,
    });
    expect(result.ok ? "" : result.message).toMatch(
      /signed by gpg key [0-9A-F]+, which is not in the keyring/,
    );
  });

  it("refuses an unsigned head", async () => {
    await commit(repos.work, { "clusters/dev.yaml": "b: 3\n" }, "Unsigned", { push: true });
    expect(await source({ mode: "gpg", keyring }).sync()).toMatchObject({
      ok: false,
      reason: "unsigned",
    });
  });

  it("refuses a gpg signature when only ssh signatures are trusted", async () => {
    const allowedSigners = join(root, "empty_allowed_signers");
    await writeFile(allowedSigners, "");
    await commit(repos.work, { "clusters/dev.yaml": "b: 4\n" }, "Signed by bob", {
      sign: bob,
      push: true,
    });
    const result = await source({ mode: "ssh", allowedSigners }).sync();
    expect(result).toMatchObject({ ok: false, reason: "untrusted-signature" });
    expect(result.ok ? "" : result.message).toContain(
      "it carries a gpg signature, but only ssh signatures are accepted",
    );
  });
});
