// quorate plan: what applying would do to each live stack, for terminals, pull requests and scripts.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { usage } from "../errors.js";
import { githubContextFromEnv, upsertStickyComment } from "../github/index.js";
import { loadManifests } from "../manifest/load.js";
import {
  formatJson,
  formatMarkdown,
  formatText,
  PLAN_COMMENT_MARKER,
  planOutcome,
} from "../plan/index.js";
import type { Plan } from "../plan/model.js";
import { planLive, planOffline } from "../reconcile/planRepo.js";
import { createGitSource } from "../source/git.js";
import { httpUrlFlag, oneOf, parseCommandArgs } from "./args.js";
import type { Command, CommandContext } from "./command.js";
import {
  AWS_FLAGS,
  AWS_FLAGS_HELP,
  amiFeedFor,
  awsSetup,
  OWNER_FLAGS,
  OWNER_FLAGS_HELP,
  ownerFromFlags,
  requireKnownClusters,
} from "./common.js";
import { EXIT, exitCodeHelp, PLAN_EXIT } from "./exitCodes.js";
import { currentBranch, detectRevision } from "./revision.js";
import { pathInRepo } from "./sourceFlags.js";

const HELP = `Usage: quorate plan [--repo DIR] [--path DIR] [--cluster NAME...] [--format text|markdown|json]
                    [--detailed-exitcode] [--keep] [--offline --base REF] [--comment github]

Shows what applying would do to each cluster's live stack: resources added,
modified, replaced or removed, and above all whether instances will roll, how
many etcd members that touches, in what order and how long it may take.

For each cluster it renders the template and reads the live stack. A settled
stack whose template-hash tag already matches costs no change set. Otherwise it
creates a change set (CREATE when there is no stack), reads it with property
values and deletes it again unless --keep is given. "didn't contain changes" is
no change, not an error.

Options:
  --repo DIR           repository holding the manifests (default: .)
  --path DIR           manifests inside it (default: clusters)
  --cluster NAME       plan only this cluster (repeatable)
  --format FORMAT      text (coloured on a terminal), markdown (for pull requests,
                       always under 65,535 characters) or json (schemaVersion 1,
                       see docs/plan-json.md); default: text
  --detailed-exitcode  exit 2 when there are changes (see below)
  --keep               keep the change sets for inspection or a later apply
  --offline            no AWS access (pull requests from forks): diff against the
                       templates rendered at --base and predict replacements from the
                       CloudFormation resource specification
  --base REF           base revision for --offline (default: origin/$GITHUB_BASE_REF)
  --comment github     post or update one sticky pull-request comment (GITHUB_TOKEN,
                       GITHUB_REPOSITORY and the event from GitHub Actions)
${OWNER_FLAGS_HELP}
${AWS_FLAGS_HELP}
  -h, --help           show this help

${exitCodeHelp("plan")}
`;

export const planCommand: Command = {
  name: "plan",
  summary: "preview changes against the live stacks (change sets) or offline",
  help: HELP,
  async run(args, ctx) {
    const { values } = parseCommandArgs("plan", args, {
      ...AWS_FLAGS,
      ...OWNER_FLAGS,
      repo: { type: "string" },
      path: { type: "string" },
      cluster: { type: "string", multiple: true },
      format: { type: "string" },
      "detailed-exitcode": { type: "boolean" },
      keep: { type: "boolean" },
      offline: { type: "boolean" },
      base: { type: "string" },
      comment: { type: "string" },
    });
    const format = oneOf("format", values.format, ["text", "markdown", "json"] as const, "text");
    const comment =
      values.comment === undefined
        ? undefined
        : oneOf("comment", values.comment, ["github"] as const, "github");
    httpUrlFlag("endpoint", values.endpoint, "http://127.0.0.1:4566");
    const repoDir = resolve(ctx.cwd, values.repo ?? ".");
    const path = values.path ?? "clusters";
    const basePath = values.offline ? pathInRepo(repoDir, path) : path;
    const loaded = await loadManifests([path], repoDir);
    const wanted = values.cluster ?? [];
    const pick = (name: string | undefined) =>
      wanted.length === 0 || (name !== undefined && wanted.includes(name));
    // Offline, a cluster deleted at head is still planned (as removed): checked below.
    if (!values.offline) requireKnownClusters(loaded, wanted);
    const clusters = loaded.clusters.filter((c) => pick(c.name));
    const invalid = loaded.invalid.filter((i) => pick(i.cluster));
    const revision = detectRevision(repoDir, [path]);

    let plan: Plan;
    if (values.offline) {
      const base =
        values.base ?? (ctx.env.GITHUB_BASE_REF ? `origin/${ctx.env.GITHUB_BASE_REF}` : undefined);
      if (!base)
        throw usage(
          "--offline needs --base REF",
          "for a pull request, the branch it merges into, e.g. --base origin/main",
        );
      const source = createGitSource({
        repo: repoDir,
        branch: currentBranch(repoDir),
        cacheDir: cacheDir(ctx, "git"),
      });
      const checkout = await source.materializeRevision(base, ctx.signal);
      // Every cluster is planned (a cluster is "removed" only when no head manifest
      // names it), then the plan keeps the ones asked for.
      plan = await planOffline(loaded.clusters, loaded.invalid, {
        amiFeed: amiFeedFor(values, undefined, ctx),
        baseDir: checkout.dir,
        path: basePath,
        baseRevision: checkout.revision,
        revision,
        headTexts: loaded.texts,
      });
      requireKnownClusters(
        loaded,
        wanted,
        plan.clusters.map((c) => c.cluster),
      );
      plan.clusters = plan.clusters.filter((c) => pick(c.cluster));
    } else {
      const { clients, amiFeed } = awsSetup(values, ctx);
      plan = await planLive(clusters, invalid, {
        aws: clients,
        amiFeed,
        revision,
        owner: ownerFromFlags(values, ctx),
        keep: Boolean(values.keep),
        texts: loaded.texts,
        signal: ctx.signal,
      });
    }
    plan.generatedAt = new Date().toISOString();
    ctx.stdout.write(render(plan, format, ctx));
    if (comment === "github") await postComment(plan, ctx);
    const outcome = planOutcome(plan);
    if (outcome === "changes" && !values["detailed-exitcode"]) return EXIT.ok;
    return PLAN_EXIT[outcome];
  },
};

function render(plan: Plan, format: "text" | "markdown" | "json", ctx: CommandContext): string {
  if (format === "json") return formatJson(plan);
  if (format === "markdown") return formatMarkdown(plan);
  return formatText(plan, {
    color: Boolean((ctx.stdout as { isTTY?: boolean }).isTTY) && !ctx.env.NO_COLOR,
  });
}

async function postComment(plan: Plan, ctx: CommandContext): Promise<void> {
  const github = githubContextFromEnv(ctx.env);
  const result = await upsertStickyComment({
    ...github,
    body: formatMarkdown(plan),
    marker: PLAN_COMMENT_MARKER,
  });
  ctx.stderr.write(`pull request comment ${result.action}: ${result.url}\n`);
}

function cacheDir(ctx: CommandContext, kind: string): string {
  return join(ctx.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "quorate", kind);
}
