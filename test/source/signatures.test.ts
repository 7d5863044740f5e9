// The pure parts of signature verification: reading the commit header and
// the verdicts of ssh-keygen and gpg as git relays them. Real keys and real
// git are in test/integration/source-signatures.test.ts.
import { describe, expect, it } from "vitest";
import {
  commitSignatureFormat,
  describePolicy,
  parseGpgStatus,
  parseSshVerification,
} from "../../src/source/signatures.js";

const HEADER =
  "tree 3683f870be446c7cc05ffaef9fa06415276e1828\nauthor A <a@x> 1 +0000\ncommitter A <a@x> 1 +0000\n";

describe("commitSignatureFormat", () => {
  it.each([
    ["no signature", `${HEADER}\nsubject\n`, undefined],
    [
      "ssh",
      `${HEADER}gpgsig -----BEGIN SSH SIGNATURE-----\n U1NI\n -----END SSH SIGNATURE-----\n\nsubject\n`,
      "ssh",
    ],
    [
      "gpg",
      `${HEADER}gpgsig -----BEGIN PGP SIGNATURE-----\n \n iHUE\n -----END PGP SIGNATURE-----\n\ns\n`,
      "gpg",
    ],
    [
      "gpg in a sha256 repository",
      `${HEADER}gpgsig-sha256 -----BEGIN PGP SIGNATURE-----\n\ns\n`,
      "gpg",
    ],
    ["x509", `${HEADER}gpgsig -----BEGIN SIGNED MESSAGE-----\n\ns\n`, "x509"],
    ["something else", `${HEADER}gpgsig garbage\n\ns\n`, "unknown"],
    [
      "a signature quoted in the message only",
      `${HEADER}\ngpgsig -----BEGIN SSH SIGNATURE-----\n`,
      undefined,
    ],
  ])("%s", (_name, raw, expected) => {
    expect(commitSignatureFormat(raw)).toBe(expected);
  });
});

describe("parseSshVerification", () => {
  const KEY = "SHA256:fD3vmt7bvw4iI0Ihx46WeRvCbdLwCrtdQetvyxw9peg";

  it("trusts a good signature by a principal only when git exits 0", () => {
    const stderr = `Good "git" signature for alice@example.com with ED25519 key ${KEY}\n`;
    expect(parseSshVerification(stderr, 0)).toEqual({
      status: "trusted",
      format: "ssh",
      signer: "alice@example.com",
      key: `ED25519 ${KEY}`,
    });
    expect(parseSshVerification(stderr, 1).status).toBe("untrusted");
  });

  it("names the key of a valid signature by nobody allowed", () => {
    const stderr = `Good "git" signature with ED25519 key ${KEY}\nNo principal matched.\n`;
    expect(parseSshVerification(stderr, 1)).toEqual({
      status: "untrusted",
      format: "ssh",
      key: `ED25519 ${KEY}`,
      detail: `it is signed with ssh key ED25519 ${KEY}, which is not an allowed signer`,
    });
  });

  it("passes on what ssh-keygen said otherwise", () => {
    expect(
      parseSshVerification("Signature verification failed: incorrect signature\n", 1),
    ).toMatchObject({
      status: "untrusted",
      detail:
        "its ssh signature does not verify: Signature verification failed: incorrect signature",
    });
  });
});

describe("parseGpgStatus", () => {
  const FPR = "AB1079BF834358CDE8B2766EE7A57BE4DE88ACBB";
  const good = [
    "[GNUPG:] NEWSIG",
    "[GNUPG:] GOODSIG E7A57BE4DE88ACBB Bob <bob@example.com>",
    `[GNUPG:] VALIDSIG ${FPR} 2026-11-25 1795599523 0 4 0 22 8 00 ${FPR}`,
    "[GNUPG:] TRUST_UNDEFINED 0 pgp",
  ].join("\n");

  it("trusts a good signature by a key in the keyring, whatever its web-of-trust level", () => {
    expect(parseGpgStatus(good, 0)).toEqual({
      status: "trusted",
      format: "gpg",
      signer: "Bob <bob@example.com>",
      key: FPR,
    });
  });

  it.each([
    [
      "[GNUPG:] ERRSIG E7A57BE4DE88ACBB 22 8 00 1 9 X\n[GNUPG:] NO_PUBKEY E7A57BE4DE88ACBB",
      "it is signed by gpg key E7A57BE4DE88ACBB, which is not in the keyring",
    ],
    [
      "[GNUPG:] BADSIG E7A57BE4DE88ACBB Bob <bob@example.com>",
      "its gpg signature does not match the commit (altered after signing?)",
    ],
    [
      "[GNUPG:] EXPKEYSIG E7A57BE4DE88ACBB Bob <bob@example.com>",
      "it is signed by Bob <bob@example.com> with an expired key",
    ],
    [
      "[GNUPG:] REVKEYSIG E7A57BE4DE88ACBB Bob <bob@example.com>",
      "it is signed by Bob <bob@example.com> with a revoked key",
    ],
    [
      "gpg: can't connect to the agent",
      "its gpg signature does not verify: gpg: can't connect to the agent",
    ],
  ])("refuses %s", (stderr, detail) => {
    expect(parseGpgStatus(stderr, 1)).toMatchObject({ status: "untrusted", format: "gpg", detail });
  });

  it("refuses a good status when git still exits non-zero", () => {
    expect(parseGpgStatus(good, 1).status).toBe("untrusted");
  });
});

it("describes a policy by its file", () => {
  expect(describePolicy({ mode: "ssh", allowedSigners: "/etc/q/allowed" })).toBe(
    "the allowed signers file /etc/q/allowed",
  );
  expect(describePolicy({ mode: "gpg", keyring: "/etc/q/keys.asc" })).toBe(
    "the GnuPG keyring /etc/q/keys.asc",
  );
});
