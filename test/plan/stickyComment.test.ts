// The sticky comment against a real HTTP server on loopback that stands in for the
// GitHub REST API (test/helpers/fakeGitHub.ts: issue comments, Link-header
// pagination, GET /user).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { githubContextFromEnv } from "../../src/github/context.js";
import { upsertStickyComment } from "../../src/github/stickyComment.js";
import { formatMarkdown, PLAN_COMMENT_MARKER } from "../../src/plan/format/markdown.js";
import { FAKE_GITHUB_TOKEN, FakeGitHub } from "../helpers/fakeGitHub.js";
import { changeSetPlan } from "./scenarios.js";

const TOKEN = FAKE_GITHUB_TOKEN;
const PAGE = 100;

describe("upsertStickyComment against a loopback stand-in for the GitHub API", () => {
  const github = new FakeGitHub();
  beforeAll(() => github.start());
  afterAll(() => github.stop(), 5000);
  beforeEach(() => {
    github.comments = [];
    github.requests = [];
    github.user = undefined;
    github.author = { login: "github-actions[bot]", type: "Bot" };
    // A long conversation, so our comment lands on the second page, and a person
    // quoting an old plan, marker and all, whose comment must never be overwritten.
    for (let i = 0; i < PAGE + 20; i++)
      github.add(`review comment ${i}`, { login: "alice", type: "User" });
    github.add(`> ${PLAN_COMMENT_MARKER}\n> why does this roll?`, { login: "bob", type: "User" });
  });

  const upsert = (body: string) =>
    upsertStickyComment({
      apiUrl: github.url,
      token: TOKEN,
      repo: "owner/repo",
      issueNumber: 7,
      body,
      marker: PLAN_COMMENT_MARKER,
    });

  it("creates, then updates in place, then leaves an identical body alone; never a second comment", async () => {
    const first = formatMarkdown(changeSetPlan());
    const created = await upsert(first);
    expect(created.action).toBe("created");

    const second = first.replace("4e1c0ffee", "5f2d0ffee");
    const updated = await upsert(second);
    expect(updated).toEqual({ action: "updated", id: created.id, url: created.url });

    const unchanged = await upsert(second);
    expect(unchanged).toEqual({ action: "unchanged", id: created.id, url: created.url });

    const ours = github.comments.filter((c) => c.user.login === "github-actions[bot]");
    expect(ours).toHaveLength(1);
    expect(ours[0]?.body).toBe(second);
    expect(github.comments.find((c) => c.user.login === "bob")?.body).toContain(
      "why does this roll?",
    );
    expect(github.requests.filter((r) => r.startsWith("POST"))).toHaveLength(1);
    expect(github.requests.filter((r) => r.startsWith("PATCH"))).toHaveLength(1);
  });

  it("with a personal token, matches comments by the token's user", async () => {
    github.user = "quorate-ci";
    github.author = { login: "quorate-ci", type: "User" };
    const created = await upsert(`${PLAN_COMMENT_MARKER}\nplan one`);
    const updated = await upsert("plan two"); // the marker is added when missing
    expect(created.action).toBe("created");
    expect(updated).toMatchObject({ action: "updated", id: created.id });
    expect(github.comments.find((c) => c.id === created.id)?.body).toBe(
      `${PLAN_COMMENT_MARKER}\nplan two`,
    );
  });

  it("fails with a hint about permissions when the token is refused", async () => {
    await expect(
      upsertStickyComment({
        apiUrl: github.url,
        token: "wrong",
        repo: "owner/repo",
        issueNumber: 7,
        body: "x",
        marker: PLAN_COMMENT_MARKER,
      }),
    ).rejects.toMatchObject({
      kind: "terminal",
      hint: expect.stringContaining("pull-requests: write"),
    });
  });
});

describe("githubContextFromEnv", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "quorate-gh-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const base = { GITHUB_TOKEN: "t", GITHUB_REPOSITORY: "owner/repo" };

  it("reads the pull request number from the event payload", () => {
    const event = join(dir, "event.json");
    writeFileSync(event, JSON.stringify({ action: "synchronize", pull_request: { number: 42 } }));
    expect(githubContextFromEnv({ ...base, GITHUB_EVENT_PATH: event })).toEqual({
      apiUrl: "https://api.github.com",
      token: "t",
      repo: "owner/repo",
      issueNumber: 42,
    });
  });

  it("falls back on GITHUB_REF and honours GITHUB_API_URL", () => {
    const context = githubContextFromEnv({
      ...base,
      GITHUB_REF: "refs/pull/9/merge",
      GITHUB_API_URL: "https://ghe.example/api/v3",
    });
    expect(context).toMatchObject({ issueNumber: 9, apiUrl: "https://ghe.example/api/v3" });
  });

  it.each([
    [{ GITHUB_REPOSITORY: "owner/repo", GITHUB_REF: "refs/pull/1/merge" }, "GITHUB_TOKEN"],
    [{ GITHUB_TOKEN: "t", GITHUB_REF: "refs/pull/1/merge" }, "GITHUB_REPOSITORY"],
    [{ ...base, GITHUB_REF: "refs/heads/main" }, "GITHUB_REF"],
  ])("names what is missing (%j)", (env, variable) => {
    expect(() => githubContextFromEnv(env)).toThrow(variable);
  });
});
