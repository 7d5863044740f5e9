// A real HTTP server on loopback that stands in for the GitHub REST API: issue
// comments of owner/repo#7 (Link-header pagination, GET /user) and commit
// statuses. GitHub itself cannot be reached from here, so this fake is the one
// stand-in, and it says so.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export const FAKE_GITHUB_TOKEN = "ghs_test_token";

export interface FakeComment {
  id: number;
  body: string;
  html_url: string;
  user: { login: string; type: "User" | "Bot" };
}

export interface FakeCommitStatus {
  sha: string;
  state: string;
  context: string;
  description?: string;
  target_url?: string;
}

export class FakeGitHub {
  comments: FakeComment[] = [];
  /** Commit statuses as POSTed, in arrival order. */
  statuses: FakeCommitStatus[] = [];
  requests: string[] = [];
  /** Login GET /user answers with; undefined answers 403, as for the Actions GITHUB_TOKEN. */
  user: string | undefined;
  /** Who POSTs as: the Actions bot, or the personal token's user. */
  author: FakeComment["user"] = { login: "github-actions[bot]", type: "Bot" };
  /** How POST /statuses answers: 201, another status, or never ("hang"). */
  statusAnswer: number | "hang" = 201;
  private nextId = 1000;
  private server: Server | undefined;
  url = "";

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      void this.handle(req).then((answer) => {
        if (!answer) return; // hang: the request is never answered
        res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
        res.end(JSON.stringify(answer.body));
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
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
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> } | undefined> {
    const url = new URL(req.url ?? "/", this.url);
    this.requests.push(`${req.method} ${url.pathname}`);
    if (req.headers.authorization !== `Bearer ${FAKE_GITHUB_TOKEN}`)
      return { status: 401, body: { message: "Bad credentials" } };
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const input = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
    if (req.method === "GET" && url.pathname === "/user") {
      return this.user
        ? { status: 200, body: { login: this.user } }
        : { status: 403, body: { message: "Resource not accessible by integration" } };
    }
    const status = /^\/repos\/owner\/repo\/statuses\/([0-9a-f]{40})$/.exec(url.pathname);
    if (req.method === "POST" && status) {
      if (this.statusAnswer === "hang") return undefined;
      if (this.statusAnswer !== 201)
        return { status: this.statusAnswer, body: { message: "refused by the test" } };
      const created = { sha: status[1] ?? "", ...input };
      this.statuses.push(created);
      return { status: 201, body: { id: this.statuses.length, ...input } };
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
