// quorate reconcile --once: one pass for CI. Applies what was merged, waits for
// the rollouts it starts, prints a summary, and fails loudly when it cannot.

import { usage } from "../errors.js";
import { conditionOf } from "../reconcile/conditions.js";
import { createReconciler, type PassSummary } from "../reconcile/reconciler.js";
import { eventLineWriter } from "../reconcile/rollout/events.js";
import type { ClusterStatus } from "../reconcile/status.js";
import { oneOf, parseCommandArgs } from "./args.js";
import type { Command, CommandContext } from "./command.js";
import {
  AWS_FLAGS,
  AWS_FLAGS_HELP,
  awsSetup,
  OWNER_FLAGS,
  OWNER_FLAGS_HELP,
  ownerFromFlags,
} from "./common.js";
import { ETCD_FLAGS, ETCD_FLAGS_HELP, etcdClientOptions } from "./etcdFlags.js";
import { EXIT, type ExitCode, exitCodeHelp, NOT_READY_EXIT, worstExit } from "./exitCodes.js";
import { createLogger } from "./log.js";
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

const HELP = `Usage: quorate reconcile --once [--repo URL|DIR] [--branch B] [--path DIR] [--format text|json]

One reconcile pass, for CI after a merge: fetches the branch head (verifying its
signature when asked), validates and renders every manifest, and for each
cluster applies what changed through a gated, supervised rollout (as
\`quorate apply\` does), waiting for every rollout it starts. Clusters are
independent: an invalid manifest or a broken stack marks that cluster and the
others go on. A deleted manifest leaves its stack orphaned unless it had
prune: true and termination protection off.

Options:
  --once               required: run one pass and exit (\`quorate run\` loops)
${SOURCE_FLAGS_HELP}
  --format text|json   progress and summary for people, or JSON lines (default: text)
${CONCURRENCY_FLAGS_HELP}
  --region REGION      also look for orphaned stacks in this region (repeatable); the
                       regions the manifests name are always read
${NOTIFY_FLAGS_HELP}
                       (before it exits, it waits up to 15 s for notifications to go out)
${SUPERVISION_FLAGS_HELP}
${OWNER_FLAGS_HELP}
${AWS_FLAGS_HELP}
${ETCD_FLAGS_HELP}
  -h, --help           show this help

${exitCodeHelp("reconcile")}
`;

/** A CI job should not end before "finished" is out, nor hang on a dead receiver. */
const NOTIFY_FLUSH_MS = 15_000;

export const reconcileCommand: Command = {
  name: "reconcile",
  summary: "one GitOps pass for CI: apply what was merged, wait, summarize",
  help: HELP,
  async run(args, ctx) {
    const { values } = parseCommandArgs("reconcile", args, {
      ...SOURCE_FLAGS,
      ...AWS_FLAGS,
      ...OWNER_FLAGS,
      ...ETCD_FLAGS,
      once: { type: "boolean" },
      format: { type: "string" },
      ...CONCURRENCY_FLAGS,
      region: { type: "string", multiple: true },
      ...SUPERVISION_FLAGS,
      ...NOTIFY_FLAGS,
    });
    if (!values.once) throw usage("needs --once", "for a long-running loop use `quorate run`");
    const format = oneOf("format", values.format, ["text", "json"] as const, "text");
    const pacing = { ...concurrencyOption(values), ...supervisionOptions(values) };
    const { source, path } = sourceFromFlags(values, ctx);
    const { clients, amiFeed } = awsSetup(values, ctx);
    const owner = ownerFromFlags(values, ctx);
    const notify = notifySetupFromFlags(values, ctx);
    // Delivery failures go to stderr as log lines; stdout keeps the progress and the summary.
    const log = createLogger({ stream: ctx.stderr });
    const notifier = createFlagNotifier(notify, deliveryReport(log, notify), log);
    const write = (text: string) => ctx.stdout.write(text);
    const lines = eventLineWriter(write, format);
    const reconciler = createReconciler({
      source,
      path,
      aws: clients,
      amiFeed,
      etcd: etcdClientOptions(values, ctx.cwd),
      onEvent: notifier
        ? (event) => {
            lines(event);
            notifier.onEvent(event);
          }
        : lines,
      ...(notifier ? { onStatus: notifier.onStatus } : {}),
      waitForRollouts: true,
      owner,
      ...(values.region ? { regions: values.region } : {}),
      ...pacing,
    });
    let passing = true;
    ctx.stop.trackInFlight(() => [
      ...(passing ? ["reconcile pass"] : []),
      ...reconciler.inFlight(),
    ]);
    const summary = await reconciler.pass(ctx.signal);
    passing = false;
    await reconciler.settle();
    if (notifier) {
      await notifier.flush(NOTIFY_FLUSH_MS);
      notifier.close();
    }
    const statuses = reconciler.statuses();
    report(ctx, format, summary, statuses);
    return exitCode(summary, statuses);
  },
};

function report(
  ctx: CommandContext,
  format: "text" | "json",
  summary: PassSummary,
  statuses: ClusterStatus[],
): void {
  if (format === "json") {
    ctx.stdout.write(`${JSON.stringify({ type: "summary", ...summary, statuses })}\n`);
    return;
  }
  const source = summary.source;
  ctx.stdout.write(
    source.ok
      ? `\nrevision ${source.revision?.slice(0, 12)} (${source.subject ?? ""}) from ${source.repo}${source.owner ? `, owner ${source.owner}` : ""}\n${source.reason ? `  warning: ${source.reason}: ${source.message ?? ""}\n` : ""}`
      : `\nsource ${source.repo}: ${source.reason}: ${source.message}${source.revision ? ` (kept reconciling ${source.revision.slice(0, 12)})` : ""}\n`,
  );
  for (const status of statuses) {
    const ready = conditionOf(status.conditions, "Ready");
    const gate = conditionOf(status.conditions, "HealthGatePassed");
    const state = ready?.status === "True" ? "Ready" : (ready?.reason ?? "Unknown");
    ctx.stdout.write(
      `  ${status.cluster.padEnd(20)} ${state.padEnd(24)} ${status.stackStatus ?? "-"}`.trimEnd(),
    );
    ctx.stdout.write(gate?.status === "True" ? "  gate passed\n" : "\n");
    if (ready?.status !== "True" && ready?.message) ctx.stdout.write(`      ${ready.message}\n`);
  }
}

/** The worst cluster decides (NOT_READY_EXIT); a source that could not be read is an error. */
function exitCode(summary: PassSummary, statuses: ClusterStatus[]): ExitCode {
  const codes: ExitCode[] = [summary.source.ok ? EXIT.ok : EXIT.error];
  for (const status of statuses) {
    const ready = conditionOf(status.conditions, "Ready");
    if (ready?.status === "True") continue;
    codes.push(ready ? NOT_READY_EXIT[ready.reason] : EXIT.error);
  }
  return worstExit(codes);
}
