// The commit-status sink: for the notifications that change a revision's
// check (started, finished, rolled back, a rollout that needs a person), one
// POST to GitHub through the same bounded, ordered queue as a webhook, so that
// pending always goes out before success and GitHub being slow costs nothing.
import { describeError, QuorateError } from "../errors.js";
import { gitHubClient } from "../github/api.js";
import { setCommitStatus } from "../github/commitStatus.js";
import type { GitHubRepoContext } from "../github/context.js";
import { PermanentDeliveryError } from "./deliveryQueue.js";
import {
  type DeliveryReport,
  type NotificationSink,
  type QueueTuning,
  queuedSink,
} from "./notifier.js";
import { commitStatusFor } from "./payload.js";

export const COMMIT_STATUS_TARGET = "github-statuses";

export function commitStatusSink(
  github: GitHubRepoContext,
  externalUrl: string | undefined,
  report: DeliveryReport,
  tuning: QueueTuning = {},
): NotificationSink {
  const client = gitHubClient(github.apiUrl, github.token);
  const sink = queuedSink(
    COMMIT_STATUS_TARGET,
    async (n, signal) => {
      const status = commitStatusFor(n, externalUrl);
      if (!status) return;
      try {
        await setCommitStatus(client, github.repo, status, signal);
      } catch (error) {
        // A refused token or an unknown commit stays refused: not retried.
        if (error instanceof QuorateError && error.kind === "terminal")
          throw new PermanentDeliveryError(describeError(error));
        throw error;
      }
    },
    report,
    tuning,
  );
  return {
    ...sink,
    // Only what sets a status is queued (and counted as sent).
    enqueue: (n) => {
      if (commitStatusFor(n, externalUrl)) sink.enqueue(n);
    },
  };
}
