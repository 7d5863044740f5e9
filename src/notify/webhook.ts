// The generic webhook: POST the JSON payload, signed like GitHub signs its
// webhooks (X-Hub-Signature-256), so a receiver can check it came from quorate:
// X-Quorate-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>.
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
import { createHmac } from "node:crypto";
import { PermanentDeliveryError } from "./deliveryQueue.js";
import type { Notification } from "./notifications.js";
import { webhookPayload } from "./payload.js";

export const SIGNATURE_HEADER = "x-quorate-signature";

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** Sends one notification to `url`; rejects on a network error, a timeout or a non-2xx answer. */
export function webhookDeliver(
  url: string,
  secret: string,
): (n: Notification, signal: AbortSignal) => Promise<void> {
  return async (n, signal) => {
    const body = JSON.stringify(webhookPayload(n));
    const response = await fetch(url, {
      method: "POST",
      body,
      signal,
      headers: {
        "content-type": "application/json",
        "user-agent": "quorate",
        "x-quorate-event": n.kind,
        [SIGNATURE_HEADER]: signature(secret, body),
      },
    });
    // Read to the end, so the connection is free for the next one.
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) return;
    const what = `HTTP ${response.status}`;
    // A request timeout or a rate limit may pass; another 4xx will not.
    const permanent =
      response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
    throw permanent ? new PermanentDeliveryError(what) : new Error(what);
  };
}
