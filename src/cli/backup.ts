// quorate backup CLUSTER: take a snapshot now, from a healthy member (a
// follower when there is one), straight to the cluster's S3 prefix.
import { usage } from "../errors.js";
import { formatBytes } from "../reconcile/backup/listing.js";
import { takeSnapshot } from "../reconcile/backup/snapshots.js";
import { oneOf, parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import { AWS_FLAGS, AWS_FLAGS_HELP, awsSetup, loadValidClusters, pickCluster } from "./common.js";
import { ETCD_FLAGS, ETCD_FLAGS_HELP, etcdClientOptions } from "./etcdFlags.js";
import { EXIT, exitCodeHelp } from "./exitCodes.js";

const HELP = `Usage: quorate backup CLUSTER [--path DIR] [--format text|json]

Takes a snapshot of the cluster now. quorate probes the members, picks a
healthy voting member (a follower when there is one, the most caught-up
first), streams its snapshot (etcd's Maintenance.Snapshot over gRPC, on the
same client URL and TLS) straight into a multipart upload
to s3://<spec.backup.bucket>/<spec.backup.prefix><id>.db while computing its
sha256, checks that S3 holds every byte, and only then writes the manifest
<id>.manifest.json (cluster, etcd revision, member, size, sha256). A snapshot
whose stream ends early or whose stored size differs is deleted and never
listed as good. Retention (spec.backup.retention) runs afterwards and never
deletes the newest good snapshot.

The object is what \`etcdctl snapshot save\` writes (etcd's own sha256 at the
end): \`etcdctl snapshot restore\` reads it as it is.

Options:
  --path DIR           where manifests live (default: clusters)
  --format text|json   one line for people, or the manifest as JSON (default: text)
${AWS_FLAGS_HELP}
${ETCD_FLAGS_HELP}
  -h, --help           show this help

${exitCodeHelp("backup")}
`;

export const backupCommand: Command = {
  name: "backup",
  summary: "take a snapshot of a cluster to S3 now",
  help: HELP,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs("backup", args, {
      ...AWS_FLAGS,
      ...ETCD_FLAGS,
      path: { type: "string" },
      format: { type: "string" },
    });
    const format = oneOf("format", values.format, ["text", "json"] as const, "text");
    if (positionals.length !== 1) {
      throw usage("quorate backup: name one cluster", "for example `quorate backup dev`");
    }
    const loaded = await loadValidClusters([values.path ?? "clusters"], ctx);
    const spec = pickCluster(loaded, positionals[0] ?? "", ctx);
    const { clients } = awsSetup(values, ctx);
    const taken = await takeSnapshot(
      { aws: clients, etcd: etcdClientOptions(values, ctx.cwd), signal: ctx.signal },
      spec,
    );
    const m = taken.manifest;
    if (format === "json") {
      ctx.stdout.write(
        `${JSON.stringify({ ...m, durationMs: taken.durationMs, pruned: taken.pruned.map((p) => ({ key: p.snapshot.objectKey, why: p.why })) })}\n`,
      );
    } else {
      ctx.stdout.write(
        `${spec.name}: snapshot s3://${spec.backup?.bucket}/${m.object} taken from ${m.member.name} at revision ${m.revision}: ${formatBytes(m.size)} in ${(taken.durationMs / 1000).toFixed(1)}s, sha256 ${m.sha256}\n`,
      );
      for (const p of taken.pruned) {
        ctx.stdout.write(`${spec.name}: retention deleted ${p.snapshot.objectKey} (${p.why})\n`);
      }
    }
    return EXIT.ok;
  },
};
