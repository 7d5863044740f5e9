// quorate maintain CLUSTER: compaction, defragmentation and NOSPACE disarming,
// gated like a rollout (src/maintenance/maintain.ts).
import { usage } from "../errors.js";
import { DEFAULT_KEEP_REVISIONS, type MaintenanceStep } from "../maintenance/decide.js";
import { type MaintenanceOutcome, runMaintenance } from "../maintenance/maintain.js";
import { createMaintenanceObserver } from "../maintenance/observe.js";
import { durationMs } from "../manifest/duration.js";
import { integerFlag, oneOf, parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import { AWS_FLAGS, AWS_FLAGS_HELP, awsSetup, selectValidClusters } from "./common.js";
import { ETCD_FLAGS, ETCD_FLAGS_HELP, etcdClientOptions } from "./etcdFlags.js";
import { type ExitCode, exitCodeHelp, MAINTAIN_EXIT } from "./exitCodes.js";

const HELP = `Usage: quorate maintain CLUSTER [--compact] [--defrag] [--disarm] [--keep-revisions N]
                        [--path DIR] [--format text|json]

etcd maintenance of one cluster's members, gated like a rollout. The steps
run in this order, whatever the order of the flags:
  --compact   compacts the keyspace to the current revision minus
              --keep-revisions (default ${DEFAULT_KEEP_REVISIONS}), so that watchers a little behind
              still find their revision;
  --defrag    defragments one member at a time: followers first, the leader
              last, after leadership has moved to another member;
  --disarm    disarms NOSPACE, only once every member's database is back under
              spec.etcd.quotaBackendBytes (else it exits 5 and says what to do).
Before each step, and before each member's defragmentation, the etcd health
gate must pass (every check held for gates.stableFor; NOSPACE is tolerated,
since it is what is being cleared). A failed gate holds the maintenance; past
gates.abortAfter it stops with nothing more done (exit 3). It never runs while
the stack is being updated.

When the gate reports NOSPACE, this clears it:
  quorate maintain CLUSTER --compact --defrag --disarm

Options:
  --compact            compact (see above)
  --defrag             defragment every member, one at a time (see above)
  --disarm             disarm NOSPACE once the databases are under the quota
  --keep-revisions N   revisions kept below the current one by --compact (default ${DEFAULT_KEEP_REVISIONS})
  --path DIR           where manifests live (default: clusters)
  --format text|json   progress as lines, or JSON lines (default: text)
${AWS_FLAGS_HELP}
${ETCD_FLAGS_HELP}
  -h, --help           show this help

${exitCodeHelp("maintain")}
`;

export const maintainCommand: Command = {
  name: "maintain",
  summary: "compact, defragment and disarm NOSPACE, gated like a rollout",
  help: HELP,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs("maintain", args, {
      ...AWS_FLAGS,
      ...ETCD_FLAGS,
      compact: { type: "boolean" },
      defrag: { type: "boolean" },
      disarm: { type: "boolean" },
      "keep-revisions": { type: "string" },
      path: { type: "string" },
      format: { type: "string" },
    });
    const format = oneOf("format", values.format, ["text", "json"] as const, "text");
    const keep =
      integerFlag("keep-revisions", values["keep-revisions"], {
        min: 0,
        max: Number.MAX_SAFE_INTEGER,
        unit: "revisions",
      }) ?? DEFAULT_KEEP_REVISIONS;
    const [name, ...extra] = positionals;
    if (!name || extra.length > 0) {
      throw usage("name one cluster", "for example `quorate maintain dev --defrag`");
    }
    const steps: MaintenanceStep[] = [];
    if (values.compact) steps.push("compact");
    if (values.defrag) steps.push("defrag");
    if (values.disarm) steps.push("disarm");
    if (steps.length === 0) {
      throw usage("say what to do: --compact, --defrag and/or --disarm", "see --help");
    }
    const [spec] = await selectValidClusters(values.path ?? "clusters", [name], ctx);
    if (!spec) throw usage(`no cluster named ${name}`);
    const { clients } = awsSetup(values, ctx);
    const etcd = etcdClientOptions(values, ctx.cwd);
    const observer = createMaintenanceObserver(clients(spec.region, spec.account), spec, etcd);
    const write = (message: string, type = "maintenance") =>
      ctx.stdout.write(
        format === "json"
          ? `${JSON.stringify({ at: new Date().toISOString(), cluster: spec.name, type, message })}\n`
          : `${new Date().toISOString().slice(11, 19)} ${spec.name}  ${message}\n`,
      );
    const outcome: MaintenanceOutcome = await runMaintenance(
      {
        cluster: spec.name,
        gates: spec.gates,
        abortAfterMs: durationMs(spec.gates.abortAfter),
        quotaBytes: BigInt(spec.etcd.quotaBackendBytes),
        etcd,
        signal: ctx.signal,
        onEvent: (message) => write(message),
        observe: observer.observe,
      },
      { steps, keepRevisions: BigInt(keep) },
    );
    write(`${outcome.result}: ${outcome.message}`, "result");
    const code: ExitCode = MAINTAIN_EXIT[outcome.result];
    return code;
  },
};
