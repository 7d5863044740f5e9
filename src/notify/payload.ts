// The webhook body: the notification's fields and a Slack-compatible `text`
// (Slack incoming webhooks read `text`; other receivers read the fields).
// https://api.slack.com/reference/surfaces/formatting#escaping
import type { Notification, NotificationKind } from "./notifications.js";

export interface WebhookPayload {
  kind: NotificationKind;
  cluster: string;
  revision?: string;
  stack?: string;
  region?: string;
  reason?: string;
  message: string;
  /** ISO 8601. */
  time: string;
  text: string;
}

const WORDS: Record<NotificationKind, string> = {
  "rollout-started": "rollout started",
  "rollout-held": "rollout held",
  "rollout-resumed": "rollout resumed",
  "rollout-finished": "rollout finished",
  "rollout-rolled-back": "rollout rolled back",
  "needs-person": "needs a person",
};

export function webhookPayload(n: Notification): WebhookPayload {
  return {
    kind: n.kind,
    cluster: n.cluster,
    ...(n.revision ? { revision: n.revision } : {}),
    ...(n.stack ? { stack: n.stack } : {}),
    ...(n.region ? { region: n.region } : {}),
    ...(n.reason ? { reason: n.reason } : {}),
    message: n.message,
    time: n.at,
    text: slackText(n),
  };
}

/** `quorate: *dev* rollout held at `0123456789ab` (quorate-dev): gate failed: ...` */
export function slackText(n: Notification): string {
  const at = n.revision ? ` at \`${n.revision.slice(0, 12)}\`` : "";
  const stack = n.stack ? ` (${slackEscape(n.stack)})` : "";
  return `quorate: *${slackEscape(n.cluster)}* ${WORDS[n.kind]}${at}${stack}: ${slackEscape(n.message)}`;
}

/** Slack reads &, < and > as markup; these three are all it asks to escape. */
function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A GitHub commit status: what the notification makes of its revision's check. */
export interface CommitStatusBody {
  sha: string;
  state: "pending" | "success" | "failure";
  context: string;
  description: string;
  targetUrl?: string;
}

/** GitHub's limit on a commit status description. */
const DESCRIPTION_MAX = 140;

/**
 * The commit status a notification sets, or undefined when it sets none (a hold,
 * a stall outside a rollout, a revision that is not a full commit SHA).
 * `externalUrl` is where people reach `quorate run` (--external-url).
 */
export function commitStatusFor(
  n: Notification,
  externalUrl?: string,
): CommitStatusBody | undefined {
  if (!n.commitState || !n.revision || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(n.revision))
    return undefined;
  const words = `${WORDS[n.kind]}: ${n.message}`;
  const description =
    words.length > DESCRIPTION_MAX ? `${words.slice(0, DESCRIPTION_MAX - 1)}\u2026` : words;
  return {
    sha: n.revision,
    state: n.commitState,
    context: `quorate/${n.cluster}`,
    description,
    ...(externalUrl ? { targetUrl: clusterStatusUrl(externalUrl, n.cluster) } : {}),
  };
}

/** The cluster's status on the daemon: /status?cluster=NAME under --external-url. */
export function clusterStatusUrl(externalUrl: string, cluster: string): string {
  return `${externalUrl.replace(/\/+$/, "")}/status?cluster=${encodeURIComponent(cluster)}`;
}
