// Every flag value is checked at parse time: a value out of range is a usage
// error (64) naming the flag, the value and what is allowed, before any source,
// cloud or manifest is touched (the repo below does not exist, so reaching it
// would be exit 1, and --concurrency 0 once hung the pass forever).
import { describe, expect, it } from "vitest";
import { cli } from "./run.js";
import { spawnQuorate } from "./spawnCli.js";

const NOWHERE = ["--repo", "/nonexistent/quorate-repo", "--endpoint", "http://127.0.0.1:9"];

// Where each command would go if a flag were let through: nowhere that exists.
function elsewhere(command: string): string[] {
  if (command === "apply") return ["--path", "/nonexistent/quorate-repo"];
  if (command === "local") return ["--data-dir", "/nonexistent/quorate-local"];
  if (command === "demo") return ["--no-install", "--dir", "/nonexistent/quorate-demo"];
  if (command === "maintain") return ["--path", "/nonexistent/quorate-repo"];
  return NOWHERE;
}

// Values that were once accepted: --network 300.1.1.0 forked a local cloud
// that failed at its first instance; --time-scale abc failed in the forked
// daemon (exit 1, the reason only in its log); demo --port abc listened on NaN;
// --listen with a name that does not resolve failed after the first pass;
// --endpoint notaurl reached the SDK.
const ONCE_ACCEPTED: [string, string[], string][] = [
  [
    "local",
    ["up", "--network", "300.1.1.0"],
    '--network must be an IPv4 loopback address in 127.0.0.0/8 with addresses after it, such as 127.0.1.0 (got "300.1.1.0")',
  ],
  ["local", ["up", "--network", "10.0.0.0"], "--network must be an IPv4 loopback address"],
  ["local", ["up", "--network", "127.0.01.0"], "--network must be an IPv4 loopback address"],
  ["local", ["up", "--network", "127.255.255.255"], "--network must be an IPv4 loopback address"],
  [
    "local",
    ["up", "--time-scale", "abc"],
    "--time-scale must be a decimal number from 0.001 to 1000",
  ],
  ["local", ["up", "--time-scale", "0"], "--time-scale must be a decimal number"],
  ["local", ["up", "--time-scale", "Infinity"], "--time-scale must be a decimal number"],
  ["local", ["up", "--boot-delay", "1.5"], "--boot-delay must be a whole number from 0 to 600000"],
  [
    "local",
    ["up", "--role", "arn:aws:iam::111111111111:user/quorate"],
    "--role must be an IAM role ARN (got arn:aws:iam::111111111111:user/quorate)",
  ],
  ["local", ["status", "--port", "65536"], "--port must be a whole number from 0 to 65535"],
  ["local", ["status", "--format", "yaml"], "--format must be one of text, json"],
  [
    "local",
    ["up", "--iam-policy", "/nonexistent/policy.json"],
    "--iam-policy: cannot read the IAM policy /nonexistent/policy.json",
  ],
  [
    "local",
    ["up", "--iam-policy", "package.json", "--iam-principal-tag", "owner"],
    "--iam-principal-tag must be KEY=VALUE",
  ],
  ["local", ["up", "--iam-principal-tag", "a=b"], "--iam-principal-tag needs --iam-policy"],
  [
    "demo",
    ["--port", "abc"],
    '--port must be a whole number from 0 to 65535 (0 picks a free one) (got "abc")',
  ],
  [
    "maintain",
    ["dev", "--compact", "--keep-revisions", "1e3"],
    "--keep-revisions must be a whole number from 0",
  ],
  [
    "run",
    ["--listen", "nosuchhost.invalid:9464"],
    "--listen must be HOST:PORT, HOST an IPv4 address",
  ],
  ["run", ["--listen", "300.1.1.1:9464"], "--listen must be HOST:PORT"],
  [
    "reconcile",
    ["--once", "--endpoint", "notaurl"],
    '--endpoint must be an http(s) URL, such as http://127.0.0.1:4566 (got "notaurl")',
  ],
  ["plan", ["--endpoint", "ftp://x"], "--endpoint must be an http(s) URL"],
];

const BAD_VALUES: [string, string[], string][] = [
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
  // An unsigned notification could be forged by anyone who can reach the receiver.
  [
    "run",
    ["--notify-url", "https://hooks.example.com/q", "--listen", "off"],
    "--notify-url needs a secret to sign with: --notify-secret-file FILE, or env QUORATE_NOTIFY_SECRET",
  ],
  [
    "run",
    ["--notify-url", "hooks.example.com", "--listen", "off"],
    "--notify-url must be an http(s) URL",
  ],
  [
    "reconcile",
    [
      "--once",
      "--notify-url",
      "https://hooks.example.com/q",
      "--notify-secret-file",
      "/nonexistent/s",
    ],
    "--notify-secret-file /nonexistent/s: ENOENT",
  ],
  [
    "run",
    ["--external-url", "https://quorate.example.com", "--listen", "off"],
    "--external-url is the link of --github-statuses, and does nothing without it",
  ],
  // Without verification a rewind is accepted anyway: the flag would do nothing.
  ["reconcile", ["--once", "--allow-rewind"], "--allow-rewind needs --verify-signatures"],
  ...ONCE_ACCEPTED,
];

describe("flag values", () => {
  it.each(BAD_VALUES)("quorate %s %j exits 64 at once", async (command, flags, message) => {
    const result = await cli([command, ...elsewhere(command), ...flags]);
    expect(result.stderr).toContain(message);
    expect(result.stderr.startsWith(`quorate ${command}: `)).toBe(true);
    // The prefix is written once.
    expect(result.stderr.indexOf(`quorate ${command}:`, 1)).toBe(-1);
    expect(result.code).toBe(64);
  });

  it("--github-statuses needs the GitHub token and repository, like plan --comment github", async () => {
    const flags = ["--github-statuses", "--listen", "off"];
    const none = await cli(["run", ...NOWHERE, ...flags], { env: {} });
    expect(none.stderr).toContain("--github-statuses: GITHUB_TOKEN is not set");
    expect(none.code).toBe(64);
    const noRepo = await cli(["reconcile", "--once", ...NOWHERE, "--github-statuses"], {
      env: { GITHUB_TOKEN: "t" },
    });
    expect(noRepo.stderr).toContain("--github-statuses: GITHUB_REPOSITORY is not set");
    expect(noRepo.code).toBe(64);
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

// Exit 13 is Node's "unsettled top-level await": a promise nothing will ever
// settle (--concurrency 0 once). Only a real process shows it; in process the
// same bug is a hang, which the cases above would time out on. One process per
// command (each costs a second of startup), and --concurrency 0 itself.
const ONE_PER_COMMAND = BAD_VALUES.filter(
  ([command, flags], i) =>
    flags.includes("--concurrency") || BAD_VALUES.findIndex(([c]) => c === command) === i,
);

describe("the real CLI on a bad flag value", () => {
  it("exits 64, never 13, for one bad value of each command", async () => {
    expect(ONE_PER_COMMAND.length).toBeGreaterThan(5);
    const codes: Record<string, number | null> = {};
    for (const [command, flags] of ONE_PER_COMMAND) {
      const result = await spawnQuorate([command, ...elsewhere(command), ...flags], "/");
      codes[`${command} ${flags.join(" ")}`] = result.code;
    }
    const wrong = Object.entries(codes).filter(([, code]) => code !== 64);
    expect(wrong).toEqual([]);
  }, 120_000);
});
