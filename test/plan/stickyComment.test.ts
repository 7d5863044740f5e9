// The sticky comment against a real HTTP server on loopback that stands in for the
// GitHub REST API (issue comments, Link-header pagination, GET /user). GitHub itself
// cannot be reached from here, so this fake is the one stand-in, and it says so.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { githubContextFromEnv } from "../../src/github/context.js";
import { upsertStickyComment } from "../../src/github/stickyComment.js";
import { formatMarkdown, PLAN_COMMENT_MARKER } from "../../src/plan/format/markdown.js";
import { changeSetPlan } from "./scenarios.js";

interface FakeComment {
  id: number;
  body: string;
  html_url: string;
  user: { login: string; type: "User" | "Bot" };
}

const TOKEN = "ghs_test_token";
const PAGE = 100;

/** Issue comments of owner/repo#7, as the GitHub REST API serves them. */
class FakeGitHub {
  comments: FakeComment[] = [];
  requests: string[] = [];
  /** Login GET /user answers with; undefined answers 403, as for the Actions GITHUB_TOKEN. */
  user: string | undefined;
  /** Who POSTs as: the Actions bot, or the personal token's user. */
  author: FakeComment["user"] = { login: "github-actions[bot]", type: "Bot" };
  private nextId = 1000;
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, body, headers }) => {
        res.writeHead(status, { "content-type": "application/json", ...headers });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  add(body: string, user: FakeComment["user"]): FakeComment {
    const id = this.nextId++;
    const comment = {
      id,
      body,
      user,
      html_url: `https://github.test/owner/repo/pull/7#issuecomment-${id}`,
    };
    this.comments.push(comment);
    return comment;
  }

  private async handle(
    req: IncomingMessage,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push(`${req.method} ${url.pathname}`);
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return { status: 401, body: { message: "Bad credentials" } };
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const input = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
    if (req.method === "GET" && url.pathname === "/user") {
      return this.user
        ? { status: 200, body: { login: this.user } }
        : { status: 403, body: { message: "Resource not accessible by integration" } };
    }
    if (url.pathname === "/repos/owner/repo/issues/7/comments") {
      if (req.method === "POST") return { status: 201, body: this.add(input.body, this.author) };
      const perPage = Number(url.searchParams.get("per_page") ?? 30);
      const page = Number(url.searchParams.get("page") ?? 1);
      const items = this.comments.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> = {};
      if (page * perPage < this.comments.length) {
        headers.link = `<${this.url}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"`;
      }
      return { status: 200, body: items, headers };
    }
    const patch = /^\/repos\/owner\/repo\/issues\/comments\/(\d+)$/.exec(url.pathname);
    if (req.method === "PATCH" && patch) {
      const comment = this.comments.find((c) => c.id === Number(patch[1]));
      if (!comment) return { status: 404, body: { message: "Not Found" } };
      comment.body = input.body;
      return { status: 200, body: comment };
    }
    return { status: 404, body: { message: "Not Found" } };
  }
}

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
