// Every flag value is checked at parse time: a value out of range is a usage
// error (64) naming the flag, the value and what is allowed, before any source,
// cloud or manifest is touched (the repo below does not exist, so reaching it
// would be exit 1, and --concurrency 0 once hung the pass forever).
import { describe, expect, it } from "vitest";
import { cli } from "./run.js";

const NOWHERE = ["--repo", "/nonexistent/quorate-repo", "--endpoint", "http://127.0.0.1:9"];

describe("flag values", () => {
  it.each([
    [
      "reconcile",
      ["--once", "--concurrency", "0"],
      "--concurrency must be a whole number from 1 to 64",
    ],
    ["reconcile", ["--once", "--concurrency", "abc"], '(got "abc")'],
    ["reconcile", ["--once", "--concurrency", "2.5"], "--concurrency must be a whole number"],
    ["reconcile", ["--once", "--tick", "0"], "--tick must be a whole number from 10 to 60000"],
    ["run", ["--concurrency", "0", "--listen", "off"], "--concurrency must be a whole number"],
    [
      "run",
      ["--interval", "PT0S", "--listen", "off"],
      "--interval must be an ISO 8601 duration from PT1S to PT24H",
    ],
    ["run", ["--interval", "3m", "--listen", "off"], '(got "3m")'],
    [
      "apply",
      ["--yes", "--heartbeat-every", "PT0S"],
      "--heartbeat-every must be an ISO 8601 duration",
    ],
    ["apply", ["--yes", "--tick=-5"], "--tick must be a whole number from 10 to 60000"],
  ])("quorate %s %j exits 64 at once", async (command, flags, message) => {
    const elsewhere = command === "apply" ? ["--path", "/nonexistent/quorate-repo"] : NOWHERE;
    const result = await cli([command, ...flags, ...elsewhere]);
    expect(result.stderr).toContain(message);
    expect(result.stderr.startsWith(`quorate ${command}: `)).toBe(true);
    // The prefix is written once.
    expect(result.stderr.indexOf(`quorate ${command}:`, 1)).toBe(-1);
    expect(result.code).toBe(64);
  });

  it("writes the command's prefix once in a usage message of its own", async () => {
    const result = await cli(["plan", "--offline"], { env: {} });
    expect(result.stderr).toBe(
      "quorate plan: --offline needs --base REF: for a pull request, the branch it merges into, e.g. --base origin/main\n",
    );
    expect(result.code).toBe(64);
  });
});

describe("an unknown --cluster", () => {
  const ROOT = new URL("../..", import.meta.url).pathname;
  it.each([
    ["plan", ["plan", "--cluster", "nosuch", "--repo", ROOT]],
    [
      "plan --offline",
      ["plan", "--offline", "--base", "HEAD", "--cluster", "nosuch", "--repo", ROOT],
    ],
    ["apply", ["apply", "--yes", "--cluster", "nosuch", "--path", `${ROOT}clusters`]],
    ["render", ["render", "nosuch", "--path", `${ROOT}clusters`]],
  ])("is a usage error in %s, naming the clusters there are", async (_what, args) => {
    const result = await cli([...args, "--endpoint", "http://127.0.0.1:9"], { cwd: ROOT });
    expect(result.stderr).toContain("no cluster named nosuch");
    expect(result.stderr).toContain("dev, prod");
    expect(result.code).toBe(64);
  });
});
