// quorate status, in process. A tiny HTTP server on loopback stands in for
// `quorate run` (it serves a fixed GET /status body, as the daemon's server
// does); the rebuild from live stacks against the local cloud is in
// test/integration/status.test.ts.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REASON } from "../../src/reconcile/conditions.js";
import type { DaemonStatusBody } from "../../src/reconcile/server.js";
import { type ClusterStatus, initialStatus, nextStatus } from "../../src/reconcile/status.js";
import { cli } from "./run.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const REV = "0123456789abcdef0123456789abcdef01234567";
const NOW = new Date("2025-03-01T12:00:00Z");
const STACK = { stackName: "quorate-dev", status: "UPDATE_COMPLETE", lastAppliedRevision: REV };

const DEV: ClusterStatus = nextStatus(
  initialStatus("dev"),
  { kind: "ready", message: "stack UPDATE_COMPLETE matches revision 0123456789ab" },
  { now: NOW, revision: REV, stack: STACK },
);
const PROD: ClusterStatus = nextStatus(
  initialStatus("prod"),
  {
    kind: "stalled",
    reason: REASON.StackNeedsOperator,
    message: "stack quorate-prod is UPDATE_ROLLBACK_FAILED; continue or fix the rollback by hand",
  },
  {
    now: NOW,
    revision: REV,
    stack: { ...STACK, stackName: "quorate-prod", status: "UPDATE_ROLLBACK_FAILED" },
  },
);

function body(clusters: ClusterStatus[]): DaemonStatusBody {
  return {
    source: { repo: "https://github.com/acme/infra", ok: true, revision: REV },
    lastPass: {
      source: { repo: "https://github.com/acme/infra", ok: true, revision: REV },
      startedAt: "2025-03-01T12:00:00.000Z",
      durationMs: 800,
      clusters: [],
    },
    clusters,
    busy: [],
  };
}

/** path -> [status, body]; anything else is 404. */
const answers = new Map<string, [number, string]>();
let daemon: Server;
let url: string;
let closedUrl: string;

beforeAll(async () => {
  daemon = createServer((request, response) => {
    const [status, text] = answers.get(request.url ?? "") ?? [404, "not found"];
    response.writeHead(status, { "Content-Type": "application/json" }).end(text);
  });
  await new Promise<void>((ready) => daemon.listen(0, "127.0.0.1", ready));
  url = `http://127.0.0.1:${(daemon.address() as AddressInfo).port}`;
  // A port nothing listens on: bind one, then let it go.
  const spare = createServer();
  await new Promise<void>((ready) => spare.listen(0, "127.0.0.1", ready));
  closedUrl = `http://127.0.0.1:${(spare.address() as AddressInfo).port}`;
  await new Promise((done) => spare.close(done));
});

afterAll(async () => {
  daemon?.closeAllConnections();
  await new Promise((done) => daemon?.close(done));
});

describe("quorate status from a daemon", () => {
  it("exits 0 when every cluster is Ready and says the status came from the daemon", async () => {
    answers.set("/status", [200, JSON.stringify(body([DEV]))]);
    const result = await cli(["status", "--daemon", `${url}/`], { cwd: ROOT });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(
      `from daemon at ${url}; source https://github.com/acme/infra at 0123456789ab; last pass 12:00:00Z (0.8s)`,
    );
    expect(lines).toContain(
      "dev      True   ReconciliationSucceeded  UPDATE_COMPLETE  0123456789ab      unknown",
    );
  });

  it("exits 2 when a cluster is not Ready, with its message under its row", async () => {
    answers.set("/status", [200, JSON.stringify(body([DEV, PROD]))]);
    const result = await cli(["status", "--daemon", url], { cwd: ROOT });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(
      "prod     False  StackNeedsOperator       UPDATE_ROLLBACK_FAILED  0123456789ab      unknown\n  stack quorate-prod is UPDATE_ROLLBACK_FAILED; continue or fix the rollback by hand\n",
    );
    expect(result.stdout).toContain("2 cluster(s): 1 ready, 1 not ready");
  });

  it("prints the same data as JSON with --format json", async () => {
    answers.set("/status", [200, JSON.stringify(body([DEV, PROD]))]);
    const result = await cli(["status", "--daemon", url, "--format", "json"], { cwd: ROOT });
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout);
    expect(report.from).toEqual({ kind: "daemon", url });
    expect(report.clusters).toEqual(JSON.parse(JSON.stringify([DEV, PROD])));
    expect(report.source.revision).toBe(REV);
  });
});

describe("quorate status rebuilt", () => {
  it("falls back to a rebuild when the daemon does not answer, and says so", async () => {
    // Every manifest here is invalid, so the rebuild needs no AWS call.
    const result = await cli(
      [
        "status",
        "--daemon",
        closedUrl,
        "--path",
        "test/fixtures/manifests/invalid/five-mistakes.yaml",
      ],
      { cwd: ROOT },
    );
    expect(result.stderr).toBe(
      `quorate status: no status from ${closedUrl} (ECONNREFUSED); rebuilding from live stacks\n`,
    );
    expect(result.code).toBe(2);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(
      new RegExp(
        `^rebuilt from live stacks \\(no daemon answered at ${closedUrl}\\): manifests in test/fixtures/manifests/invalid/five-mistakes.yaml at [0-9a-f]{12}, regions none; health gates not probed$`,
      ),
    );
    expect(result.stdout).toMatch(/\nbroken +False +InvalidManifest +- +- +unknown\n/);
    expect(result.stdout).toMatch(
      /\n {2}test\/fixtures\/manifests\/invalid\/five-mistakes\.yaml:\d+:\d+: spec\.\S+: .* \(and 4 more\); fix the manifest in git\n/,
    );
  });

  it("falls back as well when something else answers at the daemon's address", async () => {
    answers.set("/status", [200, JSON.stringify({ hello: "world" })]);
    const result = await cli(
      ["status", "--daemon", url, "--path", "test/fixtures/manifests/invalid", "--format", "json"],
      { cwd: ROOT },
    );
    expect(result.stderr).toMatch(/not a quorate \/status body/);
    expect(JSON.parse(result.stdout).from).toEqual({
      kind: "live",
      path: "test/fixtures/manifests/invalid",
      regions: [],
      daemon: url,
    });
  });

  it("exits 1 when there are no manifests to rebuild from", async () => {
    const result = await cli(["status", "--rebuild", "--path", "no/such/dir"], { cwd: ROOT });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("no/such/dir does not exist");
    expect(result.stderr).toContain(
      "quorate status: no manifests could be read under no/such/dir, so there is nothing to rebuild the status from",
    );
  });
});

describe("quorate status usage", () => {
  it("documents its exit codes in --help like the other commands", async () => {
    const result = await cli(["status", "--help"], { cwd: ROOT });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "Exit codes:\n  0   every cluster is Ready\n  1   error: the status could not be read",
    );
    expect(result.stdout).toContain("  2   at least one cluster is not Ready");
    expect(result.stdout).toContain("  64  usage error");
  });

  it.each([
    [["--daemon", "ftp://host"], /--daemon must be an http\(s\) URL/],
    [["--daemon", "http://127.0.0.1:9", "--rebuild"], /exclude each other/],
    [["--format", "yaml"], /--format must be one of text, json/],
  ])("refuses %j with 64", async (args, message) => {
    const result = await cli(["status", ...(args as string[])], { cwd: ROOT });
    expect(result.code).toBe(64);
    expect(result.stderr).toMatch(message);
  });
});
