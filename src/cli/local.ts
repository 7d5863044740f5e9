// quorate local up|down|status|reset: the local cloud as a background daemon
// (the same CLI re-run with --foreground, logging to <data-dir>/localcloud.log,
// its pid and endpoint in <data-dir>/localcloud.pid).
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { terminal, usage } from "../errors.js";
import { parseRoleArn } from "../localcloud/accounts.js";
import { readPolicyFile } from "../localcloud/iam/policyEnforcer.js";
import {
  DEFAULTS,
  LocalCloudAdmin,
  type LocalCloudSnapshot,
  startLocalCloud,
} from "../localcloud/index.js";
import { killRecordedInstanceProcesses } from "../localcloud/instances/index.js";
import { decimalFlag, integerFlag, loopbackAddressFlag, oneOf, parseCommandArgs } from "./args.js";
import type { Command, CommandContext } from "./command.js";
import { EXIT, exitCodeHelp } from "./exitCodes.js";

const HELP = `Usage: quorate local up|down|status|reset [options]

quorate's local cloud: an AWS stand-in on 127.0.0.1 that serves the slice of
CloudFormation, Auto Scaling and EC2 quorate uses (point any AWS SDK or CLI at
it with AWS_ENDPOINT_URL), whose instances are real etcd processes on their own
loopback addresses. Its state survives restarts.

Commands:
  up       start it in the background (with --foreground: in this process,
           until Ctrl-C); says so when it is already running
  down     stop it and every etcd process it started (also after a crash)
  status   whether it runs, and its stacks, groups and instances
  reset    down, then delete its data directory

Options:
  --port PORT          port to serve on (default ${DEFAULTS.port})
  --data-dir DIR       state, instance data, log and pid file (default ${DEFAULTS.dataDir})
  --foreground         up: run in this process instead of as a daemon
  --time-scale X       up: multiply every AWS-side duration (PauseTime, CreationPolicy
                       Timeout, HeartbeatTimeout) by X, 0.001 to 1000; with 0.01 a PT10M timeout lasts 6 s
                       (default 1)
  --boot-delay MS      up: stand-in for EC2 boot time, 0 to 600000 milliseconds (default ${DEFAULTS.bootDelayMs})
  --network ADDR       up: instances get the loopback addresses after ADDR, in 127.0.0.0/8
                       (default ${DEFAULTS.network}: 127.0.1.1, 127.0.1.2, ...)
  --role ARN           up: an IAM role that STS AssumeRole grants (repeatable), such as
                       arn:aws:iam::111111111111:role/quorate; its account is an account of
                       its own, with its own stacks, groups and instances (a manifest's
                       spec.account.roleArn). Any other role is refused with AccessDenied
  --region REGION      up: the AWS_REGION to print (default: AWS_REGION, else eu-west-1)
  --iam-policy FILE    up: evaluate every call, and what CloudFormation provisions for a
                       stack operation, against this IAM identity policy (JSON); a denied
                       call gets AWS's AccessDenied. examples/iam/ has quorate's policies.
                       Needs the dev dependency @cloud-copilot/iam-simulate (npm ci)
  --iam-principal-tag KEY=VALUE
                       up: a tag of the caller's principal, for the policy's
                       \${aws:PrincipalTag/KEY} (repeatable), e.g. quorate.dev:owner=default
  --format text|json   status: a summary for people, or the full snapshot as JSON
  -h, --help           show this help

${exitCodeHelp("local")}
`;

const SUBCOMMANDS = ["up", "down", "status", "reset"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const FLAGS = {
  port: { type: "string" },
  "data-dir": { type: "string" },
  foreground: { type: "boolean" },
  "time-scale": { type: "string" },
  "boot-delay": { type: "string" },
  network: { type: "string" },
  role: { type: "string", multiple: true },
  region: { type: "string" },
  format: { type: "string" },
  "iam-policy": { type: "string" },
  "iam-principal-tag": { type: "string", multiple: true },
} as const;

interface PidFile {
  pid: number;
  endpoint: string;
  port: number;
  dataDir: string;
  startedAt: string;
}

const STARTUP_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export const localCommand: Command = {
  name: "local",
  summary: "run the local cloud (AWS stand-in with real etcd instances): up, down, status, reset",
  help: HELP,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs("local", args, FLAGS);
    const sub = positionals[0];
    if (!sub || !(SUBCOMMANDS as readonly string[]).includes(sub) || positionals.length > 1) {
      throw usage(
        `expected one of ${SUBCOMMANDS.join(", ")}${sub ? ` (got ${positionals.join(" ")})` : ""}`,
        "see `quorate local --help`",
      );
    }
    const port =
      integerFlag("port", values.port, { min: 0, max: 65_535, unit: "0 picks a free one" }) ??
      DEFAULTS.port;
    const dataDir = resolve(ctx.cwd, values["data-dir"] ?? DEFAULTS.dataDir);
    // Checked here, before `up` forks the daemon: a bad value is exit 64 in the
    // shell that typed it, not a line in the daemon's log.
    const cloud = {
      timeScale:
        decimalFlag("time-scale", values["time-scale"], {
          min: 0.001,
          max: 1000,
          example: "0.01",
        }) ?? DEFAULTS.timeScale,
      bootDelayMs:
        integerFlag("boot-delay", values["boot-delay"], {
          min: 0,
          max: 600_000,
          unit: "milliseconds",
        }) ?? DEFAULTS.bootDelayMs,
      network: loopbackAddressFlag("network", values.network) ?? DEFAULTS.network,
      ...iamFlags(ctx.cwd, values["iam-policy"], values["iam-principal-tag"]),
      roles: roleFlags(values.role ?? []),
    };
    const format = oneOf("format", values.format, ["text", "json"], "text");
    switch (sub as Subcommand) {
      case "up":
        if (values.foreground) return runForeground(ctx, { ...cloud, port, dataDir });
        return startDaemon(ctx, args, { port, dataDir, region: values.region });
      case "down":
        return stop(ctx, dataDir);
      case "status":
        return status(ctx, dataDir, format);
      case "reset": {
        await stop(ctx, dataDir);
        rmSync(dataDir, { recursive: true, force: true });
        ctx.stdout.write(`deleted ${dataDir}\n`);
        return EXIT.ok;
      }
    }
  },
};

const pidPath = (dataDir: string) => join(dataDir, "localcloud.pid");
const logPath = (dataDir: string) => join(dataDir, "localcloud.log");

function readPidFile(dataDir: string): PidFile | undefined {
  try {
    return JSON.parse(readFileSync(pidPath(dataDir), "utf8")) as PidFile;
  } catch {
    return undefined;
  }
}

/** The process exists and is not a zombie (an exited daemon nobody reaped yet counts as gone). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/_quorate/health`, {
      signal: AbortSignal.timeout(2000),
    });
    return response.ok;
  } catch {
    return false;
  }
}

/** The running daemon of this data directory, if its pid lives and it answers. */
async function running(dataDir: string): Promise<PidFile | undefined> {
  const pid = readPidFile(dataDir);
  if (!pid || !isAlive(pid.pid)) return undefined;
  return (await healthy(pid.endpoint)) ? pid : undefined;
}

function requireEtcd(): void {
  const found = spawnSync("etcd", ["--version"], { encoding: "utf8" });
  if (found.error || found.status !== 0) {
    throw terminal(
      "the local cloud's instances run etcd (3.4 or newer), and no etcd binary is on PATH",
      "install it (Debian: sudo apt-get install -y etcd-server) and run `quorate local up` again",
    );
  }
}

function environmentLines(endpoint: string, region: string): string {
  return [
    `export AWS_ENDPOINT_URL=${endpoint}`,
    `export AWS_REGION=${region}`,
    "export AWS_ACCESS_KEY_ID=local",
    "export AWS_SECRET_ACCESS_KEY=local",
  ].join("\n");
}

/** --iam-policy and --iam-principal-tag, checked before the daemon forks: a bad file is exit 64 here. */
function iamFlags(
  cwd: string,
  policyFile: string | undefined,
  principalTags: string[] | undefined,
): { iamPolicy?: object; iamPrincipalTags?: Record<string, string> } {
  const tags: Record<string, string> = {};
  for (const tag of principalTags ?? []) {
    const at = tag.indexOf("=");
    if (at <= 0)
      throw usage(
        `--iam-principal-tag must be KEY=VALUE (got "${tag}")`,
        "e.g. --iam-principal-tag quorate.dev:owner=default",
      );
    tags[tag.slice(0, at)] = tag.slice(at + 1);
  }
  if (policyFile === undefined) {
    if (principalTags?.length)
      throw usage("--iam-principal-tag needs --iam-policy", "see `quorate local --help`");
    return {};
  }
  let policy: unknown;
  try {
    policy = readPolicyFile(resolve(cwd, policyFile));
  } catch (error) {
    throw usage(
      `--iam-policy: ${(error as Error).message}`,
      "give a JSON IAM policy document, such as examples/iam/quorate-controller.json",
    );
  }
  if (!policy || typeof policy !== "object" || Array.isArray(policy))
    throw usage(
      `--iam-policy: ${policyFile} is not a policy document (a JSON object)`,
      "see examples/iam/",
    );
  return { iamPolicy: policy, iamPrincipalTags: tags };
}

async function runForeground(
  ctx: CommandContext,
  values: {
    port: number;
    dataDir: string;
    timeScale: number;
    bootDelayMs: number;
    network: string;
    iamPolicy?: object;
    iamPrincipalTags?: Record<string, string>;
    roles: string[];
  },
): Promise<number> {
  requireEtcd();
  mkdirSync(values.dataDir, { recursive: true });
  const log = (event: Record<string, unknown>) =>
    ctx.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  const cloud = await startLocalCloud({
    port: values.port,
    dataDir: values.dataDir,
    timeScale: values.timeScale,
    bootDelayMs: values.bootDelayMs,
    network: values.network,
    ...(values.iamPolicy ? { iamPolicy: values.iamPolicy } : {}),
    ...(values.iamPrincipalTags ? { iamPrincipalTags: values.iamPrincipalTags } : {}),
    roles: values.roles,
    log,
  }).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw terminal(
        `port ${values.port} on 127.0.0.1 is in use`,
        "stop what listens there, or start the local cloud with another --port",
        error,
      );
    }
    throw error;
  });
  const pid: PidFile = {
    pid: process.pid,
    endpoint: cloud.endpoint,
    port: cloud.port,
    dataDir: values.dataDir,
    startedAt: new Date().toISOString(),
  };
  writeFileSync(pidPath(values.dataDir), `${JSON.stringify(pid)}\n`);
  ctx.stdout.write(
    `local cloud listening on ${cloud.endpoint} (data in ${values.dataDir}); Ctrl-C stops it\n`,
  );
  await new Promise<void>((resolveStop) => {
    if (ctx.signal.aborted) resolveStop();
    ctx.signal.addEventListener("abort", () => resolveStop(), { once: true });
  });
  log({ event: "stopping" });
  await cloud.close();
  if (readPidFile(values.dataDir)?.pid === process.pid)
    rmSync(pidPath(values.dataDir), { force: true });
  return EXIT.ok;
}

/** --role values: IAM role ARNs, checked before the daemon forks. */
function roleFlags(values: readonly string[]): string[] {
  for (const role of values) {
    if (!parseRoleArn(role))
      throw usage(
        `--role must be an IAM role ARN (got ${role})`,
        "for example --role arn:aws:iam::111111111111:role/quorate",
      );
  }
  return [...values];
}

/** The CLI entry that runs this command again as the daemon. */
function cliEntry(): string {
  return fileURLToPath(new URL("../../bin/quorate", import.meta.url));
}

async function startDaemon(
  ctx: CommandContext,
  args: string[],
  options: { port: number; dataDir: string; region: string | undefined },
): Promise<number> {
  const region = options.region ?? ctx.env.AWS_REGION ?? "eu-west-1";
  const already = await running(options.dataDir);
  if (already) {
    ctx.stdout.write(
      `the local cloud is already running on ${already.endpoint} (pid ${already.pid}, data in ${options.dataDir})\n\n${environmentLines(already.endpoint, region)}\n`,
    );
    return EXIT.ok;
  }
  requireEtcd();
  mkdirSync(options.dataDir, { recursive: true });
  rmSync(pidPath(options.dataDir), { force: true });
  const logFile = openSync(logPath(options.dataDir), "a");
  const child = spawn(process.execPath, [cliEntry(), "local", ...args, "--foreground"], {
    cwd: ctx.cwd,
    env: ctx.env,
    detached: true,
    stdio: ["ignore", logFile, logFile],
  });
  let exited: number | null | undefined;
  child.on("exit", (code) => {
    exited = code;
  });
  child.unref();
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    const pid = readPidFile(options.dataDir);
    if (pid && (await healthy(pid.endpoint))) {
      ctx.stdout.write(
        `local cloud running on ${pid.endpoint} (pid ${pid.pid}; log ${logPath(options.dataDir)})\n\nTo use it from a shell:\n${environmentLines(pid.endpoint, region)}\n`,
      );
      return EXIT.ok;
    }
    if (exited !== undefined || Date.now() > deadline) {
      const tail = logTail(options.dataDir);
      if (exited === undefined && child.pid) process.kill(child.pid, "SIGTERM");
      throw terminal(
        `the local cloud did not start${exited !== undefined ? ` (it exited with code ${exited})` : " in time"}${tail ? `; its log ends:\n${tail}` : ""}`,
        `see ${logPath(options.dataDir)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function logTail(dataDir: string, lines = 10): string {
  try {
    return readFileSync(logPath(dataDir), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

async function stop(ctx: CommandContext, dataDir: string): Promise<number> {
  const pid = readPidFile(dataDir);
  if (pid && isAlive(pid.pid)) {
    // SIGTERM: the daemon stops every etcd it started, then exits.
    process.kill(pid.pid, "SIGTERM");
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isAlive(pid.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid.pid)) process.kill(pid.pid, "SIGKILL");
    ctx.stdout.write(`stopped the local cloud (pid ${pid.pid})\n`);
  } else {
    ctx.stdout.write(`the local cloud of ${dataDir} is not running\n`);
  }
  rmSync(pidPath(dataDir), { force: true });
  // Whatever a crashed (or killed) daemon left behind, in every account.
  const instanceDirs = [
    join(dataDir, "instances"),
    ...(existsSync(join(dataDir, "accounts"))
      ? readdirSync(join(dataDir, "accounts")).map((id) =>
          join(dataDir, "accounts", id, "instances"),
        )
      : []),
  ].filter((dir) => existsSync(dir));
  const leftovers: number[] = [];
  for (const dir of instanceDirs) leftovers.push(...(await killRecordedInstanceProcesses(dir)));
  if (leftovers.length > 0) {
    ctx.stdout.write(
      `stopped ${leftovers.length} etcd process(es) it had left running: ${leftovers.join(", ")}\n`,
    );
  }
  return EXIT.ok;
}

async function status(
  ctx: CommandContext,
  dataDir: string,
  format: "text" | "json",
): Promise<number> {
  const pid = await running(dataDir);
  if (!pid) {
    if (format === "json") ctx.stdout.write(`${JSON.stringify({ running: false, dataDir })}\n`);
    else
      ctx.stdout.write(
        `the local cloud of ${dataDir} is not running (start it with \`quorate local up\`)\n`,
      );
    return EXIT.error;
  }
  const admin = new LocalCloudAdmin(pid.endpoint);
  const snapshot = await admin.state();
  // The accounts of granted roles (local up --role), each after the default one.
  const { accounts } = await admin.accounts();
  const others = await Promise.all(
    accounts
      .filter((a) => a.accountId !== snapshot.accountId)
      .map((a) => admin.forAccount(a.accountId).state()),
  );
  if (format === "json") {
    const extra = others.length > 0 ? { accounts: others } : {};
    ctx.stdout.write(`${JSON.stringify({ running: true, ...snapshot, ...extra }, null, 2)}\n`);
    return EXIT.ok;
  }
  ctx.stdout.write(formatSnapshot(snapshot));
  for (const other of others) {
    // Without the first line: the endpoint and pid are the default account's.
    const [, ...rest] = formatSnapshot(other).split("\n");
    ctx.stdout.write(`\naccount ${other.accountId}:\n${rest.join("\n")}`);
  }
  return EXIT.ok;
}

export function formatSnapshot(s: LocalCloudSnapshot): string {
  const lines = [
    `local cloud on ${s.endpoint} (pid ${s.pid}, since ${s.startedAt})`,
    `data ${s.dataDir}; instances from ${s.network}; time scale ${s.timeScale}`,
    "",
    `stacks (${s.stacks.length}):`,
  ];
  for (const st of s.stacks) {
    const step = st.operation?.step ? ` [${st.operation.step}]` : "";
    lines.push(
      `  ${st.stackName}  ${st.status}${step}${st.statusReason ? `  ${st.statusReason}` : ""}`,
    );
  }
  lines.push("", `groups (${s.groups.length}):`);
  for (const g of s.groups) {
    const states = g.instances
      .map((i) => `${i.instanceId} ${i.lifecycleState} v${i.version}`)
      .join(", ");
    const suspended = g.suspendedProcesses.length
      ? `; suspended ${g.suspendedProcesses.join(",")}`
      : "";
    lines.push(
      `  ${g.name}  desired ${g.desiredCapacity} (min ${g.minSize}, max ${g.maxSize})${suspended}`,
    );
    if (states) lines.push(`    ${states}`);
  }
  const live = s.instances.filter((i) => i.state !== "terminated");
  lines.push(
    "",
    `instances (${live.length} running, ${s.instances.length - live.length} terminated):`,
  );
  for (const i of live) {
    lines.push(
      `  ${i.instanceId}  ${i.privateIp}  ${i.state}${i.phase ? `  ${i.phase}` : ""}${i.pid ? `  etcd pid ${i.pid}` : ""}`,
    );
  }
  return `${lines.join("\n")}\n`;
}
