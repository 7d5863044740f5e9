// quorate apply: preview, gate, execute, and supervise the rollout member by member.
import { createInterface } from "node:readline/promises";
import { usage } from "../errors.js";
import { formatText, planJson } from "../plan/index.js";
import type { ClusterPlan } from "../plan/model.js";
import { type ApplyOutcome, applyCluster } from "../reconcile/apply.js";
import { eventLineWriter } from "../reconcile/rollout/events.js";
import { oneOf, parseCommandArgs } from "./args.js";
import type { Command, CommandContext } from "./command.js";
import {
  AWS_FLAGS,
  AWS_FLAGS_HELP,
  awsSetup,
  OWNER_FLAGS,
  OWNER_FLAGS_HELP,
  ownerFromFlags,
  selectValidClusters,
} from "./common.js";
import { ETCD_FLAGS, ETCD_FLAGS_HELP, etcdClientOptions } from "./etcdFlags.js";
import { APPLY_EXIT, type ExitCode, exitCodeHelp, worstExit } from "./exitCodes.js";
import { detectRevision } from "./revision.js";
import {
  SUPERVISION_FLAGS,
  SUPERVISION_FLAGS_HELP,
  supervisionOptions,
} from "./supervisionFlags.js";

const HELP = `Usage: quorate apply [--cluster NAME...] [--path DIR] [--yes] [--format text|json]

For each cluster (default: every manifest under --path): renders its stack,
creates a change set against the live stack and shows the plan, checks the etcd
health gate (every check must hold for gates.stableFor), executes the change
set, and supervises the rollout member by member until the stack settles:
  - a terminating instance's member is removed (leadership moved away first)
    only while the rest of the cluster passes the gate; then its hook is released;
  - a launching instance joins as a learner, gets its peer list, and is promoted
    once it has caught up; its signal then lets CloudFormation go on;
  - while the gate fails, hooks are held (with heartbeats); past gates.abortAfter
    the update is cancelled and the rollback is supervised with the same care.
A stack already mid-update is supervised, never executed again. quorate never
runs ContinueUpdateRollback, deletes a stack, or removes a member that would
cost quorum on its own.

Options:
  --cluster NAME       apply only this cluster (repeatable)
  --path DIR           where manifests live (default: clusters)
  --yes                do not ask before executing (needed without a terminal)
  --format text|json   progress as lines for people, or JSON events (default: text)
  --revision REV       git revision recorded in the stack tag (default: HEAD of --path)
${SUPERVISION_FLAGS_HELP}
${OWNER_FLAGS_HELP}
${AWS_FLAGS_HELP}
${ETCD_FLAGS_HELP}
  -h, --help           show this help

${exitCodeHelp("apply")}
`;

export const applyCommand: Command = {
  name: "apply",
  summary: "apply manifests with health-gated, supervised rollouts",
  help: HELP,
  async run(args, ctx) {
    const { values } = parseCommandArgs("apply", args, {
      ...AWS_FLAGS,
      ...OWNER_FLAGS,
      ...ETCD_FLAGS,
      cluster: { type: "string", multiple: true },
      path: { type: "string" },
      yes: { type: "boolean" },
      format: { type: "string" },
      revision: { type: "string" },
      ...SUPERVISION_FLAGS,
    });
    const format = oneOf("format", values.format, ["text", "json"] as const, "text");
    const interactive =
      Boolean((process.stdin as { isTTY?: boolean }).isTTY) && ctx.stdout === process.stdout;
    if (!values.yes && !interactive) {
      throw usage(
        "pass --yes to apply without a terminal to confirm on",
        "`quorate plan` previews without applying",
      );
    }
    const owner = ownerFromFlags(values, ctx);
    const pacing = supervisionOptions(values);
    const path = values.path ?? "clusters";
    const wanted = values.cluster ?? [];
    const clusters = await selectValidClusters(path, wanted, ctx);
    const { clients, amiFeed } = awsSetup(values, ctx);
    const onEvent = eventLineWriter((text) => ctx.stdout.write(text), format);
    const revision = values.revision ?? detectRevision(ctx.cwd, [path]);
    const codes: ExitCode[] = [];
    for (const spec of clusters) {
      const outcome = await applyCluster(
        {
          aws: clients,
          amiFeed,
          etcd: etcdClientOptions(values, ctx.cwd),
          onEvent,
          signal: ctx.signal,
          ...pacing,
        },
        spec,
        {
          revision,
          owner,
          // The plan is shown before anything executes, asked about unless --yes.
          confirm: async (plan) => {
            showPlan(ctx, format, plan);
            return values.yes ? true : ask(ctx);
          },
        },
      );
      reportOutcome(ctx, format, outcome);
      codes.push(APPLY_EXIT[outcome.result]);
    }
    return worstExit(codes);
  },
};

export function reportOutcome(
  ctx: CommandContext,
  format: "text" | "json",
  outcome: ApplyOutcome,
): void {
  if (format === "json") {
    const { plan: _plan, gate: _gate, ...rest } = outcome;
    ctx.stdout.write(
      `${JSON.stringify({ type: "result", ...rest, gatePassed: outcome.gate?.passed })}\n`,
    );
  } else {
    ctx.stdout.write(`${outcome.cluster}: ${outcome.result}: ${outcome.message}\n`);
  }
}

export function showPlan(ctx: CommandContext, format: "text" | "json", plan: ClusterPlan): void {
  const whole = { source: "change-set" as const, clusters: [plan] };
  if (format === "json") {
    ctx.stdout.write(`${JSON.stringify({ type: "plan", plan: planJson(whole) })}\n`);
  } else {
    const color = Boolean((ctx.stdout as { isTTY?: boolean }).isTTY) && !ctx.env.NO_COLOR;
    ctx.stdout.write(formatText(whole, { color }));
  }
}

async function ask(ctx: CommandContext): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: ctx.stdout });
  try {
    const answer = await rl.question("Apply this change? Only 'yes' applies: ");
    return answer.trim() === "yes";
  } finally {
    rl.close();
  }
}
