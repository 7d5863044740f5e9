// quorate backups [CLUSTER]: the snapshots of each cluster with a backup, newest first.
import { describeError, terminal } from "../errors.js";
import {
  type ClusterSnapshots,
  formatSnapshotsText,
  snapshotsJson,
} from "../reconcile/backup/listing.js";
import { bucketFor, readCatalog } from "../reconcile/backup/snapshots.js";
import { oneOf, parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import { AWS_FLAGS, AWS_FLAGS_HELP, awsSetup, loadValidClusters, pickCluster } from "./common.js";
import { EXIT, exitCodeHelp } from "./exitCodes.js";

const HELP = `Usage: quorate backups [CLUSTER] [--path DIR] [--format text|json]

Lists the snapshots of CLUSTER (default: every cluster with spec.backup),
newest first, with their age, etcd revision, size and member, read from the
manifests under the cluster's S3 prefix. Only "good" snapshots (a manifest,
and an object of the manifest's size) can be restored; the others are listed
with what is wrong: "incomplete" (no manifest: an upload that failed or was
cut), "mismatched" (the stored size differs) or "missing-object".

Options:
  --path DIR           where manifests live (default: clusters)
  --format text|json   a table for people, or JSON (default: text)
${AWS_FLAGS_HELP}
  -h, --help           show this help

${exitCodeHelp("backups")}
`;

export const backupsCommand: Command = {
  name: "backups",
  summary: "list the snapshots of each cluster (age, revision, size)",
  help: HELP,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs("backups", args, {
      ...AWS_FLAGS,
      path: { type: "string" },
      format: { type: "string" },
    });
    const format = oneOf("format", values.format, ["text", "json"] as const, "text");
    const loaded = await loadValidClusters([values.path ?? "clusters"], ctx);
    const specs = positionals.length
      ? positionals.map((name) => pickCluster(loaded, name, ctx))
      : loaded.clusters.filter((c) => c.backup);
    if (specs.length === 0) {
      throw terminal("no cluster has spec.backup", "add spec.backup with a bucket to a manifest");
    }
    const { clients } = awsSetup(values, ctx);
    const listed: ClusterSnapshots[] = [];
    for (const spec of specs) {
      const bucket = bucketFor({ aws: clients }, spec);
      const entry = { cluster: spec.name, bucket: bucket.bucket, prefix: bucket.prefix };
      try {
        listed.push({ ...entry, snapshots: await readCatalog(bucket) });
      } catch (error) {
        listed.push({ ...entry, snapshots: [], error: describeError(error) });
      }
    }
    const now = new Date();
    ctx.stdout.write(
      format === "json"
        ? `${JSON.stringify(snapshotsJson(listed, now), null, 2)}\n`
        : formatSnapshotsText(listed, now),
    );
    return EXIT.ok;
  },
};
