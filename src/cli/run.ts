// quorate run: the GitOps loop on a box.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { usage } from "../errors.js";
import { createReconciler } from "../reconcile/reconciler.js";
import { parseListenAddress } from "../reconcile/server.js";
import { durationFlag, oneOf, parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import {
  AWS_FLAGS,
  AWS_FLAGS_HELP,
  awsSetup,
  OWNER_FLAGS,
  OWNER_FLAGS_HELP,
  ownerFromFlags,
} from "./common.js";
import { runDaemon } from "./daemon.js";
import { ETCD_FLAGS, ETCD_FLAGS_HELP, etcdClientOptions } from "./etcdFlags.js";
import { EXIT, exitCodeHelp } from "./exitCodes.js";
import { createLogger, type LogLevel } from "./log.js";
import {
  createFlagNotifier,
  deliveryReport,
  NOTIFY_FLAGS,
  NOTIFY_FLAGS_HELP,
  notifySetupFromFlags,
} from "./notifyFlags.js";
import { SOURCE_FLAGS, SOURCE_FLAGS_HELP, sourceFromFlags } from "./sourceFlags.js";
import {
  CONCURRENCY_FLAGS,
  CONCURRENCY_FLAGS_HELP,
  concurrencyOption,
  SUPERVISION_FLAGS,
  SUPERVISION_FLAGS_HELP,
  supervisionOptions,
} from "./supervisionFlags.js";

const HELP = `Usage: quorate run [--repo URL|DIR] [--branch B] [--path DIR] [--interval PT3M]
                   [--listen 127.0.0.1:9464] [--webhook-secret-file FILE] [--watch]

The GitOps loop for a box: reconciles the branch head every --interval, at
once on a signed GitHub push webhook, and (with --watch) on every commit in a
local working directory. Each pass is what \`quorate reconcile --once\` does,
except that rollouts run in the background, so one cluster's long rollout never
holds up the others. A cluster whose stack is mid-update when quorate starts is
supervised, never executed again. A settled cluster with spec.maintenance.autoDefrag
gets a fragmented member defragmented, one at a time, gated like a rollout.

Clusters with spec.backup get a scheduled snapshot at the first pass, in sync
and with no rollout, after their newest good one is older than
spec.backup.every (read from the bucket once at start), in the background and
within --concurrency; a failure is retried after a backoff. The condition
BackupReady and the quorate_backup_* metrics say how it goes.

Serves on --listen:
  GET  /               the dashboard (read-only HTML): per cluster its conditions,
                       revisions, members and current rollout as a per-member
                       timeline, and the last passes; live without a reload
  GET  /events         server-sent events: the dashboard's live part when it changes
  GET  /healthz        200 while passes complete (for systemd or a load balancer)
  GET  /status         JSON: source revision, and per cluster the conditions Ready,
                       Reconciling, Stalled, HealthGatePassed (and BackupReady) with
                       reasons and messages, members (health, leader, learner, version,
                       database size, applied index), observedRevision,
                       lastAppliedRevision, lastAttemptedRevision;
                       /status?cluster=NAME for one cluster
  GET  /metrics        Prometheus metrics (reconcile durations and results, gate
                       state, applied revision, scheduled snapshots per cluster)
  POST /hooks/github   push webhook (HMAC-SHA256, X-Hub-Signature-256), with a secret

Options:
${SOURCE_FLAGS_HELP}
  --interval DURATION  poll interval, ISO 8601, PT1S to PT24H (default: PT3M)
  --listen HOST:PORT   dashboard, status, metrics and webhook server (default: 127.0.0.1:9464;
                       "off" serves nothing)
  --webhook-secret-file FILE   the GitHub webhook secret (or env QUORATE_WEBHOOK_SECRET)
  --watch              start a pass at once on each commit to the --repo working directory
${NOTIFY_FLAGS_HELP}
  --log-format auto|json|text  JSON lines, or readable lines on a terminal (default: auto)
  --log-level LEVEL    debug, info, warn or error (default: info)
${CONCURRENCY_FLAGS_HELP}
  --region REGION      also look for orphaned stacks in this region (repeatable); the
                       regions the manifests name are always read
${SUPERVISION_FLAGS_HELP}
${OWNER_FLAGS_HELP}
${AWS_FLAGS_HELP}
${ETCD_FLAGS_HELP}
  -h, --help           show this help

${exitCodeHelp("run")}
`;

export const runCommand: Command = {
  name: "run",
  summary: "the GitOps loop on a box: poll, webhook, watch; dashboard, /status and /metrics",
  help: HELP,
  async run(args, ctx) {
    const { values } = parseCommandArgs("run", args, {
      ...SOURCE_FLAGS,
      ...AWS_FLAGS,
      ...OWNER_FLAGS,
      ...ETCD_FLAGS,
      interval: { type: "string" },
      listen: { type: "string" },
      "webhook-secret-file": { type: "string" },
      watch: { type: "boolean" },
      "log-format": { type: "string" },
      "log-level": { type: "string" },
      ...CONCURRENCY_FLAGS,
      region: { type: "string", multiple: true },
      ...SUPERVISION_FLAGS,
      ...NOTIFY_FLAGS,
    });
    // Every flag is checked before anything starts (a poll interval of zero would never poll).
    const pollIntervalMs =
      durationFlag("interval", values.interval, {
        minMs: 1_000,
        maxMs: 86_400_000,
        example: "PT3M",
      }) ?? 180_000;
    const pacing = { ...concurrencyOption(values), ...supervisionOptions(values) };
    const format = oneOf(
      "log-format",
      values["log-format"],
      ["auto", "json", "text"] as const,
      "auto",
    );
    const level = oneOf(
      "log-level",
      values["log-level"],
      ["debug", "info", "warn", "error"] as const,
      "info",
    ) as LogLevel;
    const log = createLogger({ stream: ctx.stderr, format, level });
    ctx.stop.logTo(log);
    const { source, path } = sourceFromFlags(values, ctx);
    const { clients, amiFeed, endpoint } = awsSetup(values, ctx);
    const owner = ownerFromFlags(values, ctx);
    const secret = webhookSecret(values["webhook-secret-file"], ctx.env, ctx.cwd);
    const notify = notifySetupFromFlags(values, ctx);
    const listen =
      values.listen === "off" ? undefined : parseListenAddress(values.listen ?? "127.0.0.1:9464");
    log.info("quorate run starting", {
      repo: source.display,
      branch: source.branch,
      path,
      endpoint: endpoint ?? "AWS",
      owner,
      intervalMs: pollIntervalMs,
    });
    await runDaemon({
      reconciler: (onEvent, onStatus) =>
        createReconciler({
          source,
          path,
          aws: clients,
          amiFeed,
          etcd: etcdClientOptions(values, ctx.cwd),
          onEvent,
          ...(onStatus ? { onStatus } : {}),
          waitForRollouts: false,
          autoDefrag: true,
          scheduleBackups: true,
          owner,
          ...(values.region ? { regions: values.region } : {}),
          ...pacing,
        }),
      notifier: (metrics) => createFlagNotifier(notify, deliveryReport(log, notify, metrics), log),
      branch: source.branch,
      log,
      pollIntervalMs,
      ...(listen ? { listen } : {}),
      ...(secret ? { webhookSecret: secret } : {}),
      ...(values.watch ? { watchDir: resolve(ctx.cwd, values.repo ?? ".") } : {}),
      signal: ctx.signal,
      trackInFlight: ctx.stop.trackInFlight,
    });
    return EXIT.ok;
  },
};

function webhookSecret(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): string | undefined {
  if (file) {
    try {
      const secret = readFileSync(resolve(cwd, file), "utf8").trim();
      if (!secret) throw usage(`--webhook-secret-file ${file} is empty`);
      return secret;
    } catch (error) {
      if ((error as { kind?: string }).kind === "usage") throw error;
      throw usage(`--webhook-secret-file ${file}: ${(error as Error).message}`);
    }
  }
  return env.QUORATE_WEBHOOK_SECRET || undefined;
}
