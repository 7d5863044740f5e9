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

/** Short words for a commit status description or a log line. */
export function notificationWords(kind: NotificationKind): string {
  return WORDS[kind];
}
