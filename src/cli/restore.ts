// quorate restore CLUSTER: the manifest change that restores a cluster from a
// snapshot, checked first (the snapshot is read back whole against its
// sha256); --write puts it in the file, --apply --yes performs it now.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { createSnapshotBucket } from "../aws/snapshotBucket.js";
import { describeStack } from "../aws/stacks.js";
import { terminal, usage } from "../errors.js";
import { formatManifestErrors, parseManifests } from "../manifest/parse.js";
import { manifestWithRestore, nextRestoreId, restoreBlock } from "../manifest/restoreEdit.js";
import type { ClusterSpec, RestoreSpec } from "../manifest/types.js";
import { describeRestore } from "../plan/format/describe.js";
import type { RestorePlan } from "../plan/model.js";
import { applyCluster } from "../reconcile/apply.js";
import type { Snapshot } from "../reconcile/backup/catalog.js";
import { formatBytes } from "../reconcile/backup/listing.js";
import { checkRestoreSnapshot, restoreRefusalHint } from "../reconcile/backup/restore.js";
import { restorePinFromTags, restorePlan } from "../reconcile/backup/restorePin.js";
import { eventLineWriter } from "../reconcile/rollout/events.js";
import { reportOutcome, showPlan } from "./apply.js";
import { oneOf, parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import {
  AWS_FLAGS,
  AWS_FLAGS_HELP,
  awsSetup,
  loadValidClusters,
  OWNER_FLAGS,
  OWNER_FLAGS_HELP,
  ownerFromFlags,
  pickCluster,
} from "./common.js";
import { ETCD_FLAGS, ETCD_FLAGS_HELP, etcdClientOptions } from "./etcdFlags.js";
import { APPLY_EXIT, EXIT, exitCodeHelp } from "./exitCodes.js";
import { detectRevision } from "./revision.js";
import {
  SUPERVISION_FLAGS,
  SUPERVISION_FLAGS_HELP,
  supervisionOptions,
} from "./supervisionFlags.js";

const HELP = `Usage: quorate restore CLUSTER [--snapshot KEY] [--id ID] [--write] [--apply --yes]

Restores CLUSTER from a snapshot in its spec.backup bucket, the way git
declares it: prints the spec.restore block to commit to the cluster's
manifest. A restore replaces the cluster: a new Auto Scaling Group whose
members each restore the snapshot into an empty data directory and start one
new etcd cluster; the old group and its data are deleted, and every write
after the snapshot's revision is lost.

First the snapshot (the newest good one, or --snapshot) is read back whole,
and its size and sha256 are compared with its manifest: a missing or corrupt
snapshot is refused here (exit 3) and nothing is written or changed. The block
names the snapshot by its key, so what is committed is what was checked. The
id is new (r1, then r2...: one more than the manifest's or the stack's last).

Once the block is committed, \`quorate run\` or \`quorate apply\` restores.
Keep it after the restore: without it the group is renamed back, which would
replace the restored cluster with an empty one, so quorate refuses that change.

Options:
  --snapshot KEY       the snapshot's S3 key, as \`quorate backups\` lists it (default: latest)
  --id ID              the restore id (default: the next one); lowercase letters, digits, -
  --write              write the block into the manifest file (every other line is kept)
  --apply              restore now, from this process, with the block applied in memory;
                       commit the same change afterwards (needs --yes)
  --yes                confirm --apply: the cluster it replaces is discarded
  --path DIR           where manifests live (default: clusters)
  --format text|json   lines for people, or JSON (default: text)
  --revision REV       with --apply: git revision recorded in the stack tag (default: HEAD of --path)
${SUPERVISION_FLAGS_HELP}
${OWNER_FLAGS_HELP}
${AWS_FLAGS_HELP}
${ETCD_FLAGS_HELP}
  -h, --help           show this help

${exitCodeHelp("restore")}
`;

export const restoreCommand: Command = {
  name: "restore",
  summary: "restore a cluster from a snapshot: the change to commit, or --apply --yes now",
  help: HELP,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs("restore", args, {
      ...AWS_FLAGS,
      ...OWNER_FLAGS,
      ...ETCD_FLAGS,
      ...SUPERVISION_FLAGS,
      snapshot: { type: "string" },
      id: { type: "string" },
      write: { type: "boolean" },
      apply: { type: "boolean" },
      yes: { type: "boolean" },
      path: { type: "string" },
      format: { type: "string" },
      revision: { type: "string" },
    });
    const format = oneOf("format", values.format, ["text", "json"] as const, "text");
    if (positionals.length !== 1) {
      throw usage("quorate restore: name one cluster", "for example `quorate restore dev`");
    }
    if (values.apply && !values.yes) {
      throw usage(
        "--apply replaces the cluster with one started from the snapshot: pass --yes with it",
        "without --apply, quorate restore only prints the change to commit",
      );
    }
    const path = values.path ?? "clusters";
    const spec = pickCluster(await loadValidClusters([path], ctx), positionals[0] ?? "", ctx);
    const backup = spec.backup;
    if (!backup) {
      throw terminal(
        `cluster ${spec.name} has no spec.backup`,
        "a restore reads its snapshot from spec.backup's bucket: add spec.backup with the bucket the snapshot is in",
      );
    }
    const { clients, amiFeed } = awsSetup(values, ctx);
    const aws = clients(spec.region, spec.account);
    const live = await describeStack(aws.cloudFormation, spec.stackName);
    const applied = restorePinFromTags(live?.tags ?? {})?.id;
    const used = [spec.restore?.id, applied].filter((id): id is string => id !== undefined);
    const id = values.id ?? nextRestoreId(used);
    if (id === applied) {
      throw usage(
        `restore ${id} is already applied to stack ${spec.stackName}: the same id restores nothing`,
        "leave --id out for the next id, or name a new one",
      );
    }

    const checked = await checkRestoreSnapshot(
      createSnapshotBucket(aws.s3, backup),
      backup,
      values.snapshot ?? "latest",
    );
    if ("problem" in checked) {
      ctx.stderr.write(
        `${spec.name}: restore refused: ${checked.problem}. Nothing was written or changed. ${restoreRefusalHint(spec.name, backup)}\n`,
      );
      return EXIT.gateBlocked;
    }
    const restore: RestoreSpec = { id, snapshot: checked.snapshot.objectKey };
    const file = resolve(ctx.cwd, spec.source.file);
    const text = editedManifest(file, spec, restore);
    const restoring = reparse(spec, text);
    const plan = restorePlan(restoring, { kind: "new", restore }, new Date(), checked.snapshot);
    if (values.write) writeFileSync(file, text);
    const change: RestoreChange = {
      spec,
      restore,
      snapshot: checked.snapshot,
      ...(plan ? { plan } : {}),
      written: values.write === true,
      text,
    };
    if (format === "json") ctx.stdout.write(`${JSON.stringify(changeJson(change))}\n`);
    else ctx.stdout.write(changeText(change, Boolean(values.apply)));
    if (!values.apply) return EXIT.ok;

    const outcome = await applyCluster(
      {
        aws: clients,
        amiFeed,
        etcd: etcdClientOptions(values, ctx.cwd),
        onEvent: eventLineWriter((line) => ctx.stdout.write(line), format),
        signal: ctx.signal,
        ...supervisionOptions(values),
      },
      restoring,
      {
        revision: values.revision ?? detectRevision(ctx.cwd, [path]),
        owner: ownerFromFlags(values, ctx),
        confirm: async (planned) => {
          showPlan(ctx, format, planned);
          return true;
        },
      },
    );
    reportOutcome(ctx, format, outcome);
    if (outcome.executed && format === "text") {
      ctx.stdout.write(
        `${spec.name}: commit the spec.restore block above to ${spec.source.file} now: until git has it, quorate refuses to change ${spec.name} (GroupReplacementRefused)\n`,
      );
    }
    return APPLY_EXIT[outcome.result];
  },
};

/** The cluster as the edited manifest declares it, validated like any manifest. */
/** The manifest file with spec.restore set; a spec it cannot edit is an error naming the file. */
function editedManifest(file: string, spec: ClusterSpec, restore: RestoreSpec): string {
  try {
    return manifestWithRestore(readFileSync(file, "utf8"), spec.source.document, restore);
  } catch (error) {
    throw terminal(
      `${spec.source.file}: ${(error as Error).message}`,
      `add under spec: of ${spec.name}, then commit:\n${restoreBlock(restore)}`,
      error,
    );
  }
}

function reparse(spec: ClusterSpec, text: string): ClusterSpec {
  const set = parseManifests([{ file: spec.source.file, text }]);
  const restoring = set.clusters.find((c) => c.name === spec.name);
  if (!restoring || set.errors.length > 0) {
    throw terminal(
      `the manifest with spec.restore does not validate:\n${formatManifestErrors(set.errors)}`,
      "check --id (lowercase letters, digits and -) and --snapshot",
    );
  }
  return restoring;
}

interface RestoreChange {
  spec: ClusterSpec;
  restore: RestoreSpec;
  snapshot: Snapshot;
  plan?: RestorePlan;
  written: boolean;
  text: string;
}

function changeText(change: RestoreChange, applying: boolean): string {
  const { spec, restore, snapshot } = change;
  const m = snapshot.manifest;
  const block = restoreBlock(restore)
    .trimEnd()
    .split("\n")
    .map((line) => `    ${line}`)
    .join("\n");
  const lines = [
    `${spec.name}: snapshot s3://${spec.backup?.bucket}/${snapshot.objectKey} read back whole: ${m ? `${formatBytes(m.size)}, sha256 ${m.sha256}, ` : ""}as its manifest says.`,
    ...(change.plan ? [`${spec.name}: ${describeRestore(change.plan)}.`] : []),
    "",
    `${change.written ? "Written" : "To commit"} under spec: in ${spec.source.file} (the cluster's document starts at line ${spec.source.line}):`,
    "",
    block,
    "",
    "Keep the block after the restore: without it the group is renamed back, which would replace the restored cluster with an empty one (quorate refuses that change); a new id restores again.",
  ];
  if (!applying) {
    lines.push(
      change.written
        ? `Commit the file: quorate run (or quorate apply) then restores.`
        : `Once it is committed, quorate run (or quorate apply) restores. To restore now instead: quorate restore ${spec.name} --snapshot ${restore.snapshot} --id ${restore.id} --apply --yes, then commit the same change.`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function changeJson(change: RestoreChange) {
  const m = change.snapshot.manifest;
  return {
    type: "restore",
    cluster: change.spec.name,
    file: change.spec.source.file,
    restore: change.restore,
    snapshot: {
      bucket: change.spec.backup?.bucket,
      key: change.snapshot.objectKey,
      ...(m
        ? {
            revision: m.revision,
            takenAt: m.takenAt,
            member: m.member.name,
            size: m.size,
            sha256: m.sha256,
          }
        : {}),
      ...(change.plan?.ageSeconds !== undefined ? { ageSeconds: change.plan.ageSeconds } : {}),
    },
    written: change.written,
    /** The whole manifest file with the block in it. */
    manifest: change.text,
  };
}
