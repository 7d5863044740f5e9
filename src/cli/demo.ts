// quorate demo (npm start): the local cloud with real etcd, a git repository
// seeded with this repo's clusters/, and the GitOps loop on it, printing
// every member's progress and what to try next.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { type AwsClients, createAwsClientPool } from "../aws/clients.js";
import { CreateBucketCommand } from "../aws/sdk.js";
import { terminal } from "../errors.js";
import { feedUrlTemplate, startLocalCloud } from "../localcloud/index.js";
import { conditionOf } from "../reconcile/conditions.js";
import { createReconciler, type PassSummary, type Reconciler } from "../reconcile/reconciler.js";
import { formatEventLine } from "../reconcile/rollout/events.js";
import { createAmiFeed } from "../render/ami.js";
import { createGitSource } from "../source/git.js";
import { ensureCommands } from "../system/install.js";
import { installTurnedOff, NO_INSTALL_ENV } from "../system/installPlan.js";
import { integerFlag, parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import { runDaemon } from "./daemon.js";
import { EXIT, exitCodeHelp } from "./exitCodes.js";
import { createLogger } from "./log.js";

const HELP = `Usage: quorate demo [--dir DIR] [--port PORT] [--reset] [--no-install]

The README's first command (npm start). Starts quorate's local cloud (an AWS
stand-in on 127.0.0.1 whose instances are real etcd processes), makes a git
repository seeded with this repository's clusters/ (dev: 3 members, prod: 5),
and runs the GitOps loop on it: both clusters are created through their
lifecycle hooks, then every commit you make there is planned, gated and rolled
out member by member while you watch. Ctrl-C stops it; running it again
resumes where it stopped (--reset starts over).

Needs etcd 3.4 or newer, etcdctl and git on PATH. When one is missing and this process
may install packages (it is root, or \`sudo -n true\` works), it says what it
installs and why, then installs their Debian packages (etcd-server, etcd-client, git: the
list in debian-packages.txt, the one .ci/run installs from). Otherwise, or with
--no-install or QUORATE_NO_INSTALL=1, it prints the apt-get command and exits 1.

Options:
  --dir DIR     where the demo keeps its cloud, repository and caches (default: .quorate/demo)
  --port PORT   local cloud port (default: 4566); status and metrics on 9464
  --reset       delete DIR first and start over
  --no-install  never install missing packages (same as QUORATE_NO_INSTALL=1)
  -h, --help    show this help

${exitCodeHelp("demo")}
`;

export const demoCommand: Command = {
  name: "demo",
  summary: "local cloud + real etcd + the GitOps loop on the example clusters",
  help: HELP,
  async run(args, ctx) {
    const { values } = parseCommandArgs("demo", args, {
      dir: { type: "string" },
      port: { type: "string" },
      reset: { type: "boolean" },
      "no-install": { type: "boolean" },
    });
    const port =
      integerFlag("port", values.port, { min: 0, max: 65_535, unit: "0 picks a free one" }) ?? 4566;
    const turnedOff = installTurnedOff(ctx.env, values["no-install"] === true);
    ensureCommands({
      user: "demo",
      who: "the demo",
      env: ctx.env,
      offSwitch: `${NO_INSTALL_ENV}=1 or --no-install`,
      say: (line) => ctx.stdout.write(`${line}\n`),
      again: "run `npm start` again",
      ...(turnedOff ? { turnedOff } : {}),
    });
    const dir = resolve(ctx.cwd, values.dir ?? ".quorate/demo");
    if (values.reset) rmSync(dir, { recursive: true, force: true });
    const repo = join(dir, "repo");
    seedRepository(repo, join(ctx.cwd, "clusters"));

    const cloud = await startLocalCloud({
      port,
      dataDir: join(dir, "cloud"),
      bootDelayMs: 1500,
    });
    const say = (text: string) => ctx.stdout.write(`${text}\n`);
    say(`local cloud on ${cloud.endpoint} (instances are etcd processes on 127.0.1.x)`);
    say(`git repository ${repo} (branch main), reconciled by quorate\n`);
    const aws = createAwsClientPool({ endpoint: cloud.endpoint }, {});
    await ensureDemoBucket(aws("eu-west-1"));
    const amiFeed = createAmiFeed({
      source: feedUrlTemplate(cloud.endpoint),
    });
    let hinted = false;
    let reconciler: Reconciler | undefined;
    // After each rollout ends, once every cluster is Ready, say what to try (once).
    const hintWhenReady = () =>
      setTimeout(() => {
        if (
          !hinted &&
          reconciler &&
          reconciler.busy().length === 0 &&
          allReady(reconciler.statuses())
        ) {
          hinted = true;
          say(demoHints(repo));
        }
      }, 300);
    try {
      await runDaemon({
        reconciler: (onEvent, onStatus) =>
          (reconciler = createReconciler({
            source: createGitSource({
              repo,
              branch: "main",
              cacheDir: join(dir, "git-cache"),
              manifestsPath: "clusters",
            }),
            path: "clusters",
            aws,
            amiFeed,
            etcd: {},
            onEvent,
            ...(onStatus ? { onStatus } : {}),
            waitForRollouts: false,
            scheduleBackups: true,
            tickMs: 500,
          })),
        branch: "main",
        log: createLogger({ stream: ctx.stderr, format: "text", level: "warn" }),
        pollIntervalMs: 30_000,
        listen: { host: "127.0.0.1", port: 9464 },
        watchDir: repo,
        signal: ctx.signal,
        onEvent: (event) => {
          say(formatEventLine(event));
          if (event.type === "done") hintWhenReady();
        },
        afterPass: (summary, reason) => {
          if (reason.sources.some((s) => s !== "poll")) say(passLine(summary));
          hintWhenReady();
        },
        onListening: (url) => say(`status and metrics on ${url} (/status, /metrics)\n`),
      });
    } finally {
      await cloud.close();
    }
    return EXIT.ok;
  },
};

function passLine(summary: PassSummary): string {
  const acting = summary.clusters
    .filter((c) => c.action === "apply" || c.action === "supervise")
    .map((c) => c.cluster);
  const revision = summary.revision?.slice(0, 12) ?? "none";
  return acting.length
    ? `-- pass at ${revision}: rolling out ${acting.join(", ")}`
    : `-- pass at ${revision}: nothing to do`;
}

function demoHints(repo: string): string {
  return `
Everything is up. Try a rolling upgrade of dev onto a new Flatcar release:

  cd ${repo}
  sed -i 's/version: 4081.2.0/version: 4152.2.0/' clusters/dev.yaml
  git commit -am "Roll dev onto Flatcar 4152.2.0"

quorate sees the commit at once, plans it, checks the etcd gate, and replaces
the members one by one: each old member is removed before its instance
terminates, each new one joins as a learner and is promoted once caught up.
Meanwhile, in another terminal:

  ./bin/quorate status --daemon http://127.0.0.1:9464
  ./bin/quorate plan --local --repo ${repo}
  curl -s http://127.0.0.1:9464/metrics | grep quorate_cluster

To back dev up to the local S3, lose its quorum and restore it from git,
follow "Backups and restore" in the README (the bucket ${DEMO_BUCKET} is ready).

Ctrl-C stops the demo; \`npm start\` again resumes it.
`;
}

/** The bucket the README's backup walkthrough names, so a manifest may use it at once. */
export const DEMO_BUCKET = "demo-snapshots";

async function ensureDemoBucket(aws: AwsClients): Promise<void> {
  try {
    await aws.s3.send(new CreateBucketCommand({ Bucket: DEMO_BUCKET }));
  } catch (error) {
    // A demo started again on its data directory has it already.
    if ((error as { name?: string }).name !== "BucketAlreadyOwnedByYou") throw error;
  }
}

function allReady(statuses: { conditions: Parameters<typeof conditionOf>[0] }[]): boolean {
  return (
    statuses.length > 0 &&
    statuses.every((s) => conditionOf(s.conditions, "Ready")?.status === "True")
  );
}

/** A fresh repository with this checkout's manifests, made once; later runs reuse it. */
function seedRepository(repo: string, clusters: string): void {
  if (existsSync(join(repo, ".git"))) return;
  if (!existsSync(clusters))
    throw terminal(`${clusters} does not exist`, "run the demo from the quorate checkout");
  mkdirSync(repo, { recursive: true });
  cpSync(clusters, join(repo, "clusters"), { recursive: true });
  const git = (...args: string[]) =>
    execFileSync(
      "git",
      ["-c", "user.name=quorate demo", "-c", "user.email=demo@quorate.invalid", ...args],
      { cwd: repo, stdio: "ignore" },
    );
  git("init", "-q", "-b", "main");
  git("add", "clusters");
  git("commit", "-q", "-m", "The example clusters: dev (3 members) and prod (5 members)");
}
