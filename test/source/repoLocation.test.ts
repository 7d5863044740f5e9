import { describe, expect, it } from "vitest";
import { QuorateError } from "../../src/errors.js";
import { parseNameStatus } from "../../src/source/git.js";
import { summarizeGitError } from "../../src/source/gitProcess.js";
import {
  cacheKey,
  checkBranchName,
  parseRepoLocation,
  redactCredentials,
} from "../../src/source/repoLocation.js";

describe("parseRepoLocation", () => {
  it.each([
    ["https://github.com/acme/infra.git", "remote"],
    ["ssh://git@github.com/acme/infra.git", "remote"],
    ["git@github.com:acme/infra.git", "remote"],
    ["file:///srv/git/infra.git", "remote"],
    ["/srv/git/infra.git", "local"],
    ["./infra", "local"],
    ["infra", "local"],
    ["dir/with:colon", "local"],
  ])("%s is %s", (repo, kind) => {
    expect(parseRepoLocation(repo, "/home/op").kind).toBe(kind);
  });

  it("resolves a local path against the working directory", () => {
    expect(parseRepoLocation("./infra", "/home/op")).toEqual({
      kind: "local",
      path: "/home/op/infra",
      display: "/home/op/infra",
    });
  });

  it.each(["", "--upload-pack=touch /tmp/x"])("refuses %j", (repo) => {
    expect(() => parseRepoLocation(repo)).toThrow(QuorateError);
  });
});

describe("redactCredentials", () => {
  it.each([
    ["https://user:tok3n@github.com/a/b.git", "https://user:***@github.com/a/b.git"],
    ["https://ghp_abc123@github.com/a/b.git", "https://***@github.com/a/b.git"],
    ["ssh://git@github.com/a/b.git", "ssh://git@github.com/a/b.git"],
    ["ssh://git:pw@host/x", "ssh://git:***@host/x"],
    [
      "fatal: unable to access 'https://u:p@h/x/': 403",
      "fatal: unable to access 'https://u:***@h/x/': 403",
    ],
    ["git@github.com:acme/infra.git", "git@github.com:acme/infra.git"],
  ])("%s", (text, expected) => {
    expect(redactCredentials(text)).toBe(expected);
  });
});

describe("cacheKey", () => {
  it("names the repository, and does not change when the credentials do", () => {
    const a = cacheKey(parseRepoLocation("https://old-token@github.com/acme/infra.git"));
    const b = cacheKey(parseRepoLocation("https://new-token@github.com/acme/infra.git"));
    expect(a).toBe(b);
    expect(a).toMatch(/^infra-[0-9a-f]{16}$/);
    expect(cacheKey(parseRepoLocation("git@github.com:acme/infra.git"))).not.toBe(a);
    expect(cacheKey(parseRepoLocation("/srv/repos/ops/", "/"))).toMatch(/^ops-/);
  });
});

describe("checkBranchName", () => {
  it.each(["main", "release/1.2", "feature-x", "v1.0"])("accepts %s", (branch) => {
    expect(() => checkBranchName(branch)).not.toThrow();
  });

  it.each([
    "",
    "-x",
    "a..b",
    "a b",
    "a~1",
    "a^",
    "a:b",
    "x.lock",
    "a/",
    "/a",
    "@",
    "a@{1}",
    ".hidden",
    "a\u0001",
  ])("refuses %j", (branch) => {
    expect(() => checkBranchName(branch)).toThrow(QuorateError);
  });
});

describe("parseNameStatus", () => {
  it("maps git's letters to added, modified and deleted", () => {
    const output = "M\0clusters/dev.yaml\0A\0clusters/new.yaml\0D\0clusters/old.yaml\0T\0link\0";
    expect(parseNameStatus(output)).toEqual([
      { path: "clusters/dev.yaml", change: "modified" },
      { path: "clusters/new.yaml", change: "added" },
      { path: "clusters/old.yaml", change: "deleted" },
      { path: "link", change: "modified" },
    ]);
    expect(parseNameStatus("")).toEqual([]);
  });

  it("keeps paths with spaces and newlines intact", () => {
    expect(parseNameStatus("A\0a b\nc.yaml\0")).toEqual([{ path: "a b\nc.yaml", change: "added" }]);
  });
});

describe("summarizeGitError", () => {
  it("keeps git's fatal lines, without hints, remote chatter or credentials", () => {
    const stderr = [
      "remote: Enumerating objects: 2, done.",
      "hint: something",
      "fatal: unable to access 'https://u:pw@h/x.git/': Could not resolve host: h",
      "fatal: Could not read from remote repository.",
    ].join("\n");
    expect(summarizeGitError(stderr)).toBe(
      "unable to access 'https://u:***@h/x.git/': Could not resolve host: h; Could not read from remote repository.",
    );
  });

  it("falls back to the first lines, then to the cause", () => {
    expect(summarizeGitError("something odd\n")).toBe("something odd");
    expect(summarizeGitError("", new Error("block timeout reached"))).toBe("block timeout reached");
  });
});
