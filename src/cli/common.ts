// Flags and setup shared by the commands that load manifests, resolve images
// or reach AWS, so that every command spells them the same way.
import { homedir } from "node:os";
import { join } from "node:path";
import { type AwsClients, createAwsClientPool, resolveEndpoint } from "../aws/clients.js";
import { terminal, usage } from "../errors.js";
import { type LoadedManifests, loadManifests } from "../manifest/load.js";
import { formatManifestErrors } from "../manifest/parse.js";
import type { ClusterSpec } from "../manifest/types.js";
import { DEFAULT_OWNER, OWNER_PATTERN } from "../reconcile/ownership.js";
import { type AmiFeed, createAmiFeed } from "../render/ami.js";
import type { CommandContext } from "./command.js";

export const AWS_FLAGS = {
  local: { type: "boolean" },
  endpoint: { type: "string" },
  "ami-feed": { type: "string" },
} as const;

export const AWS_FLAGS_HELP = `  --local              use the local cloud at http://127.0.0.1:4566 (see \`quorate local up\`)
  --endpoint URL       AWS endpoint to use (default: AWS_ENDPOINT_URL, else AWS)
  --ami-feed SRC       Flatcar release feed: a URL template with {channel} and {version},
                       or a directory <channel>/<version>/flatcar_production_ami_all.json
                       (default: QUORATE_AMI_FEED, the local cloud's feed with --local,
                       else https://{channel}.release.flatcar-linux.net/...)`;

export interface AwsFlags {
  local?: boolean | undefined;
  endpoint?: string | undefined;
  "ami-feed"?: string | undefined;
}

export const OWNER_FLAGS = { owner: { type: "string" } } as const;

export const OWNER_FLAGS_HELP = `  --owner NAME         this quorate's name, tagged on every stack it applies (quorate.dev:owner);
                       it acts only on stacks of its own owner, so that the quorates of several
                       repositories can share an account and region (default: QUORATE_OWNER,
                       else "default"). Give every quorate of one repository the same owner.`;

/** The owner name from --owner or QUORATE_OWNER, checked, else the default. */
export function ownerFromFlags(flags: { owner?: string | undefined }, ctx: CommandContext): string {
  const owner = flags.owner ?? ctx.env.QUORATE_OWNER ?? DEFAULT_OWNER;
  if (!OWNER_PATTERN.test(owner)) {
    throw usage(
      `${flags.owner === undefined ? "QUORATE_OWNER" : "--owner"} must be 1 to 63 lowercase letters, digits, '-', '.' or '_', beginning and ending with a letter or digit (got ${JSON.stringify(owner)})`,
      "it is written to a tag on every stack; for example --owner platform-prod",
    );
  }
  return owner;
}

export function awsSetup(flags: AwsFlags, ctx: CommandContext) {
  const endpoint = resolveEndpoint(
    {
      ...(flags.local ? { local: true } : {}),
      ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
    },
    ctx.env,
  );
  const clients: (region: string) => AwsClients = createAwsClientPool(
    endpoint ? { endpoint } : {},
    ctx.env,
  );
  return { endpoint, clients, amiFeed: amiFeedFor(flags, endpoint, ctx) };
}

export function amiFeedFor(
  flags: AwsFlags,
  endpoint: string | undefined,
  ctx: CommandContext,
): AmiFeed {
  const localFeed =
    endpoint && /^https?:\/\/127\./.test(endpoint)
      ? `${endpoint.replace(/\/$/, "")}/_flatcar/{channel}/{version}/flatcar_production_ami_all.json`
      : undefined;
  const source = flags["ami-feed"] ?? ctx.env.QUORATE_AMI_FEED ?? localFeed;
  const cacheRoot = ctx.env.XDG_CACHE_HOME ?? join(homedir(), ".cache");
  return createAmiFeed({
    ...(source ? { source } : {}),
    cacheDir: join(cacheRoot, "quorate", "ami"),
  });
}

/** Loads manifests and fails with every error when any manifest is invalid. */
export async function loadValidClusters(
  paths: readonly string[],
  ctx: CommandContext,
): Promise<LoadedManifests> {
  const loaded = await loadManifests(paths, ctx.cwd);
  if (loaded.errors.length > 0) {
    ctx.stderr.write(formatManifestErrors(loaded.errors));
    throw terminal(
      `${loaded.errors.length} manifest error(s)`,
      "fix them (see above) or run `quorate validate`",
    );
  }
  return loaded;
}

/** A cluster by name, or the only cluster of a file, from an already loaded set. */
export function pickCluster(
  loaded: LoadedManifests,
  nameOrFile: string,
  ctx: CommandContext,
): ClusterSpec {
  const byName = loaded.clusters.find((c) => c.name === nameOrFile);
  if (byName) return byName;
  const byFile = loaded.clusters.filter((c) => c.source.file === nameOrFile);
  if (byFile.length === 1 && byFile[0]) return byFile[0];
  const invalid = loaded.invalid.find((i) => i.cluster === nameOrFile);
  if (invalid) {
    ctx.stderr.write(formatManifestErrors(invalid.errors));
    throw terminal(`cluster ${nameOrFile} has manifest errors`, "fix them (see above)");
  }
  const known = loaded.clusters.map((c) => c.name).join(", ") || "none";
  throw terminal(
    `no cluster named ${nameOrFile}${byFile.length > 1 ? ` (the file holds ${byFile.length}; name one)` : ""}`,
    `known clusters: ${known}`,
  );
}
