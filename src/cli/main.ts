// quorate's command line: dispatch, --help, --version, and the mapping from
// errors to exit codes. Each command lives in its own file and parses its own flags.
import { setMaxListeners } from "node:events";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { describeError } from "../errors.js";
import type { CommandContext } from "./command.js";
import { COMMANDS, type CommandEntry } from "./commands.js";
import { EXIT, exitCodeFor, exitCodeOverview } from "./exitCodes.js";
import { createLogger } from "./log.js";
import {
  defaultStopTimeoutMs,
  installShutdown,
  STOP_TIMEOUT_ENV,
  stopTimeoutMs,
} from "./shutdown.js";

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
  return String(pkg.version);
}

export async function topLevelHelp(entries: readonly CommandEntry[]): Promise<string> {
  const commands = await Promise.all(entries.map((entry) => entry.load()));
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `quorate: GitOps for etcd clusters on EC2 Auto Scaling Groups, with etcd health gates on every rollout step

Usage: quorate <command> [options]

Commands:
${lines.join("\n")}

Options:
  -h, --help     show help (also after any command)
  --version      print the version

AWS is reached through the standard SDK configuration (AWS_REGION, AWS_PROFILE,
AWS_ENDPOINT_URL...). --local is shorthand for the local cloud at http://127.0.0.1:4566.

SIGINT or SIGTERM stops a command: it waits for the work in flight up to
${STOP_TIMEOUT_ENV} (an ISO 8601 duration, PT1S to PT1H; default PT10S), then
exits ${EXIT.stopTimedOut}; a second signal exits ${EXIT.interrupted} at once.

${exitCodeOverview()}
`;
}

export async function runCli(
  argv: string[],
  context: Partial<CommandContext> = {},
): Promise<number> {
  const controller = new AbortController();
  // Every probe and call listens to this signal; a large cluster has many at once.
  setMaxListeners(1000, controller.signal);
  const ctx: CommandContext = {
    stdout: context.stdout ?? process.stdout,
    stderr: context.stderr ?? process.stderr,
    env: context.env ?? process.env,
    cwd: context.cwd ?? process.cwd(),
    signal: context.signal ?? controller.signal,
    // A caller with its own signal (a test) stops the command itself.
    stop: context.stop ?? { trackInFlight: () => {}, logTo: () => {} },
  };
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const wanted = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    ctx.stdout.write(wanted ? (await wanted.load()).help : await topLevelHelp(COMMANDS));
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === "--version" || name === "-v") {
    ctx.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    ctx.stderr.write(`quorate: unknown command "${name}"; see \`quorate --help\`\n`);
    return EXIT.usage;
  }
  const command = await entry.load();
  if (rest.includes("--help") || rest.includes("-h")) {
    ctx.stdout.write(command.help);
    return EXIT.ok;
  }
  try {
    if (!context.signal) {
      ctx.stop = installShutdown({
        command: name,
        timeoutMs: stopTimeoutMs(ctx.env, defaultStopTimeoutMs(name)),
        controller,
        log: createLogger({ stream: ctx.stderr }),
        process,
        exit: (code) => process.exit(code),
      });
    }
    return await command.run(rest, ctx);
  } catch (error) {
    const text = describeError(error);
    const prefix = `quorate ${name}: `;
    ctx.stderr.write(`${text.startsWith(prefix) ? "" : prefix}${text}\n`);
    if (ctx.env.QUORATE_DEBUG) ctx.stderr.write(`${(error as Error)?.stack ?? ""}\n`);
    return exitCodeFor(error);
  }
}

// Run directly (`node dist/cli/main.js ...`) as well as through bin/quorate.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  process.exitCode = await runCli(process.argv.slice(2));
}
