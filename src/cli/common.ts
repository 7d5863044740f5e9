// Flags and setup shared by the commands that load manifests, resolve images
// or reach AWS, so that every command spells them the same way.
import { statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { type AwsClientPool, createAwsClientPool, resolveEndpoint } from "../aws/clients.js";
import { terminal, usage } from "../errors.js";
import { type LoadedManifests, loadManifests } from "../manifest/load.js";
import { formatManifestErrors } from "../manifest/parse.js";
import type { ClusterSpec } from "../manifest/types.js";
import { DEFAULT_OWNER, OWNER_PATTERN } from "../reconcile/ownership.js";
import { type AmiFeed, createAmiFeed } from "../render/ami.js";
import { httpUrlFlag } from "./args.js";
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
  httpUrlFlag("endpoint", flags.endpoint, "http://127.0.0.1:4566");
  const endpoint = resolveEndpoint(
    {
      ...(flags.local ? { local: true } : {}),
      ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
    },
    ctx.env,
  );
  const clients: AwsClientPool = createAwsClientPool(endpoint ? { endpoint } : {}, ctx.env);
  return { endpoint, clients, amiFeed: amiFeedFor(flags, endpoint, ctx) };
}

export function amiFeedFor(
  flags: AwsFlags,
  endpoint: string | undefined,
  ctx: CommandContext,
): AmiFeed {
  const localFeed =
    endpoint && /^https?:\/\/127\./.test(endpoint)
      ? `${endpoint.replace(/\/$/, "")}/_flatcar/{arch}/{channel}/{version}/flatcar_production_ami_all.json`
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

/**
 * The clusters a command acts on: every manifest under `path`, or those
 * `wanted` names (unknown names are a usage error). Only the clusters acted on
 * must be valid: a broken manifest of another cluster does not block them.
 */
export async function selectValidClusters(
  path: string,
  wanted: readonly string[],
  ctx: CommandContext,
): Promise<ClusterSpec[]> {
  if (wanted.length === 0) return (await loadValidClusters([path], ctx)).clusters;
  const loaded = await loadManifests([path], ctx.cwd);
  requireKnownClusters(loaded, wanted);
  const broken = loaded.invalid.filter((i) => i.cluster && wanted.includes(i.cluster));
  if (broken.length > 0) {
    ctx.stderr.write(formatManifestErrors(broken.flatMap((i) => i.errors)));
    throw terminal(
      `${broken.map((i) => i.cluster).join(", ")}: manifest error(s)`,
      "fix them (see above) or run `quorate validate`",
    );
  }
  return loaded.clusters.filter((c) => wanted.includes(c.name));
}

/** Every cluster name the manifests declare, valid or not. */
function declaredNames(loaded: Pick<LoadedManifests, "clusters" | "invalid">): string[] {
  const names = [
    ...loaded.clusters.map((c) => c.name),
    ...loaded.invalid.flatMap((i) => (i.cluster ? [i.cluster] : [])),
  ];
  return [...new Set(names)].sort();
}

/**
 * `--cluster NAME...` must name declared clusters: a typo in CI must fail, not
 * plan or apply nothing and pass. A usage error (64) in every command.
 */
export function requireKnownClusters(
  loaded: Pick<LoadedManifests, "clusters" | "invalid" | "errors">,
  wanted: readonly string[],
  /** Names known besides the manifests' (offline plans: clusters deleted at head). */
  alsoKnown: readonly string[] = [],
): void {
  const known = [...new Set([...declaredNames(loaded), ...alsoKnown])].sort();
  const unknown = wanted.filter((name) => !known.includes(name));
  if (unknown.length === 0) return;
  // A file that could not be parsed may declare it: that is a manifest error, not a typo.
  const unread = loaded.errors.find((e) => e.cluster === undefined);
  if (unread) {
    throw terminal(
      `no cluster named ${unknown.join(", ")} was read, but ${unread.file}:${unread.line}:${unread.column}: ${unread.problem}`,
      "that file may declare it: fix it (`quorate validate` lists every error)",
    );
  }
  throw usage(
    `no cluster named ${unknown.join(", ")}`,
    `the manifests declare ${known.length > 0 ? known.join(", ") : "no cluster"}`,
  );
}

/** Whether `target` names a manifest file (relative to cwd, ./relative, or absolute). */
export function isManifestFileArg(target: string, cwd: string): boolean {
  return (
    /\.ya?ml$/.test(target) && (isAbsolute(target) || target.includes("/") || existsIn(cwd, target))
  );
}

function existsIn(cwd: string, target: string): boolean {
  try {
    return statSync(join(cwd, target)).isFile();
  } catch {
    return false;
  }
}

/**
 * A cluster by name, or the only cluster of a file (given in any form the
 * shell gives it: `dev.yaml`, `./clusters/dev.yaml`, an absolute path).
 */
export function pickCluster(
  loaded: LoadedManifests,
  nameOrFile: string,
  ctx: CommandContext,
): ClusterSpec {
  const byName = loaded.clusters.find((c) => c.name === nameOrFile);
  if (byName) return byName;
  const wantedFile = resolve(ctx.cwd, nameOrFile);
  const sameFile = (file: string) => resolve(ctx.cwd, file) === wantedFile;
  const byFile = loaded.clusters.filter((c) => sameFile(c.source.file));
  if (byFile.length === 1 && byFile[0]) return byFile[0];
  const invalid = loaded.invalid.find(
    (i) => i.cluster === nameOrFile || (i.cluster === undefined && sameFile(i.source.file)),
  );
  const fileErrors = loaded.errors.filter((e) => sameFile(e.file));
  if (invalid || fileErrors.length > 0) {
    ctx.stderr.write(formatManifestErrors(invalid?.errors ?? fileErrors));
    throw terminal(
      `${invalid?.cluster ? `cluster ${invalid.cluster}` : nameOrFile} has manifest errors`,
      "fix them (see above)",
    );
  }
  if (byFile.length > 1) {
    throw usage(
      `${relative(ctx.cwd, wantedFile) || nameOrFile} holds ${byFile.length} clusters`,
      `name one: ${byFile.map((c) => c.name).join(", ")}`,
    );
  }
  const known = declaredNames(loaded);
  throw usage(
    `no cluster named ${nameOrFile}`,
    `the manifests declare ${known.length > 0 ? known.join(", ") : "no cluster"}; or give a manifest file`,
  );
}
