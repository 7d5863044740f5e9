// Notification flags, shared by `run` and `reconcile --once`: where to post
// rollout news, the secret that signs it, and what a failed delivery becomes
// (a log line and a counter, never a failed pass).
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describeError, usage } from "../errors.js";
import { type GitHubRepoContext, githubRepoFromEnv } from "../github/context.js";
import { COMMIT_STATUS_TARGET, commitStatusSink } from "../notify/commitStatuses.js";
import type { Notification } from "../notify/notifications.js";
import {
  createNotifier,
  type DeliveryReport,
  type NotificationSink,
  type Notifier,
  queuedSink,
} from "../notify/notifier.js";
import { webhookDeliver } from "../notify/webhook.js";
import type { QuorateMetrics } from "../reconcile/metrics.js";
import { httpUrlFlag } from "./args.js";
import type { CommandContext } from "./command.js";
import type { Logger } from "./log.js";

export const NOTIFY_FLAGS = {
  "notify-url": { type: "string", multiple: true },
  "notify-secret-file": { type: "string" },
  "github-statuses": { type: "boolean" },
  "external-url": { type: "string" },
} as const;

export const NOTIFY_FLAGS_HELP = `  --notify-url URL     POST JSON to URL when a rollout starts, is held (with the gate's
                       reason), resumes, finishes, rolls back, or needs a person (repeatable;
                       a Slack incoming webhook reads its "text"); never delays a rollout
  --notify-secret-file FILE   the secret that signs each body, X-Quorate-Signature:
                       sha256=HMAC-SHA256 hex (or env QUORATE_NOTIFY_SECRET); required
                       with --notify-url
  --github-statuses    set the commit status quorate/CLUSTER on the revision a rollout
                       applies: pending when it starts, success or failure when it ends
                       (env GITHUB_TOKEN with statuses: write, GITHUB_REPOSITORY, and
                       GITHUB_API_URL on GitHub Enterprise, as plan --comment github reads)
  --external-url URL   where people reach this quorate: a commit status links to
                       URL/status?cluster=CLUSTER`;

export interface NotifyFlags {
  "notify-url"?: string[] | undefined;
  "notify-secret-file"?: string | undefined;
  "github-statuses"?: boolean | undefined;
  "external-url"?: string | undefined;
}

/** Checked at parse time, before anything starts; undefined when nothing is to be notified. */
export interface NotifySetup {
  webhooks: { target: string; url: string; host: string }[];
  secret?: string;
  github?: GitHubRepoContext;
  externalUrl?: string;
}

export function notifySetupFromFlags(flags: NotifyFlags, ctx: CommandContext): NotifySetup {
  const urls = flags["notify-url"] ?? [];
  const webhooks = urls.map((value, index) => {
    const url = httpUrlFlag("notify-url", value, "https://hooks.example.com/quorate") ?? value;
    return { target: `webhook-${index}`, url, host: new URL(url).host };
  });
  const secret = readSecret(flags["notify-secret-file"], ctx);
  if (webhooks.length > 0 && !secret)
    throw usage(
      "--notify-url needs a secret to sign with: --notify-secret-file FILE, or env QUORATE_NOTIFY_SECRET",
      "receivers check X-Quorate-Signature (sha256=HMAC-SHA256 of the body) against the same secret",
    );
  const externalUrl = httpUrlFlag(
    "external-url",
    flags["external-url"],
    "https://quorate.example.com",
  );
  if (externalUrl && !flags["github-statuses"])
    throw usage("--external-url is the link of --github-statuses, and does nothing without it");
  const github = flags["github-statuses"]
    ? githubRepoFromEnv(ctx.env, "--github-statuses")
    : undefined;
  return {
    webhooks,
    ...(secret ? { secret } : {}),
    ...(github ? { github } : {}),
    ...(externalUrl ? { externalUrl } : {}),
  };
}

function readSecret(file: string | undefined, ctx: CommandContext): string | undefined {
  if (!file) return ctx.env.QUORATE_NOTIFY_SECRET || undefined;
  let secret: string;
  try {
    secret = readFileSync(resolve(ctx.cwd, file), "utf8").trim();
  } catch (error) {
    throw usage(`--notify-secret-file ${file}: ${(error as Error).message}`);
  }
  if (!secret) throw usage(`--notify-secret-file ${file} is empty`);
  return secret;
}

/** Failures as structured log lines (the target and host, never the URL or the secret) and counters. */
export function deliveryReport(
  log: Logger,
  setup: NotifySetup,
  metrics?: Pick<QuorateMetrics, "observeNotification">,
): DeliveryReport {
  const hosts = new Map(setup.webhooks.map((w) => [w.target, w.host]));
  const about = (target: string, n: Notification) => ({
    target,
    ...(hosts.has(target) ? { host: hosts.get(target) } : {}),
    kind: n.kind,
    cluster: n.cluster,
  });
  return {
    sent: (target) => metrics?.observeNotification(target, "sent"),
    failed: (target, n, error, attempts) => {
      metrics?.observeNotification(target, "failed");
      log.warn("notification not delivered", {
        ...about(target, n),
        attempts,
        error: describeError(error),
      });
    },
    dropped: (target, n) => {
      metrics?.observeNotification(target, "dropped");
      log.warn("notification dropped: its queue is full", about(target, n));
    },
  };
}

/** The notifier for the flags, or undefined when no target was asked for. */
export function createFlagNotifier(
  setup: NotifySetup,
  report: DeliveryReport,
  log: Logger,
): Notifier | undefined {
  const sinks: NotificationSink[] = setup.webhooks.map((w) =>
    queuedSink(w.target, webhookDeliver(w.url, setup.secret ?? ""), report),
  );
  if (setup.github) sinks.push(commitStatusSink(setup.github, setup.externalUrl, report));
  if (sinks.length === 0) return undefined;
  log.info("notifying", {
    targets: [
      ...setup.webhooks.map((w) => `${w.target} ${w.host}`),
      ...(setup.github ? [`${COMMIT_STATUS_TARGET} ${setup.github.repo}`] : []),
    ],
  });
  return createNotifier(sinks, (error) =>
    log.error("notifier failed; the pass goes on", { error: describeError(error) }),
  );
}
