// quorate status: each cluster's conditions, from a running daemon when one
// answers, else rebuilt from the live stacks and the manifests.
import { terminal, usage } from "../errors.js";
import { loadManifests } from "../manifest/load.js";
import { formatManifestErrors } from "../manifest/parse.js";
import { DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT } from "../reconcile/server.js";
import {
  formatStatusText,
  parseDaemonStatus,
  readLiveStatuses,
  type StatusReport,
  statusVerdict,
} from "../reconcile/statusReport.js";
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
import { exitCodeHelp, STATUS_EXIT } from "./exitCodes.js";
import { detectRevision } from "./revision.js";

export const DEFAULT_DAEMON_URL = `http://${DEFAULT_LISTEN_HOST}:${DEFAULT_LISTEN_PORT}`;
const DAEMON_TIMEOUT_MS = 3_000;

const HELP = `Usage: quorate status [--format text|json] [--daemon URL | --rebuild] [--path DIR]
                      [--region REGION...] [--local | --endpoint URL]

Shows every cluster's status: Ready (and the reason when it is not), the stack
status, the revision last applied (from the stack's quorate.dev:revision tag)
and the last etcd health gate.

It first asks a running \`quorate run\` for GET /status (--daemon, default
${DEFAULT_DAEMON_URL}). When none answers, it rebuilds the status from
the live system: it loads the manifests under --path, renders them, lists the
stacks of every region they name, and compares each stack's template-hash tag
with the rendered template (in sync, or out of sync), finds stacks quorate
manages whose manifest is gone (orphaned), and reports invalid manifests and
stacks that need a person. A rebuilt status probes no etcd member, so the
gate shows "unknown". The first line says where the status came from.

Options:
  --format text|json   a table for people, or the same data as JSON (default: text)
  --daemon URL         where \`quorate run\` listens (default: ${DEFAULT_DAEMON_URL})
  --rebuild            do not ask a daemon; rebuild from the live stacks
  --path DIR           manifests, for a rebuild (default: clusters)
  --region REGION      also look for orphaned stacks in this region (repeatable)
${OWNER_FLAGS_HELP}
${AWS_FLAGS_HELP}
  -h, --help           show this help

${exitCodeHelp("status")}
`;

export const statusCommand: Command = {
  name: "status",
  summary: "show each cluster's conditions, from the daemon or rebuilt from the live stacks",
  help: HELP,
  async run(args, ctx) {
    const { values } = parseCommandArgs("status", args, {
      ...AWS_FLAGS,
      ...OWNER_FLAGS,
      format: { type: "string" },
      daemon: { type: "string" },
      rebuild: { type: "boolean" },
      path: { type: "string" },
      region: { type: "string", multiple: true },
    });
    const format = oneOf("format", values.format, ["text", "json"] as const, "text");
    if (values.rebuild && values.daemon) {
      throw usage("--daemon and --rebuild exclude each other");
    }
    const daemon = daemonUrl(values.daemon ?? DEFAULT_DAEMON_URL);
    let report: StatusReport | undefined;
    if (!values.rebuild) {
      const asked = await askDaemon(daemon, ctx.signal);
      if (asked.ok) report = asked.report;
      else if (values.daemon)
        ctx.stderr.write(
          `quorate status: no status from ${daemon} (${asked.why}); rebuilding from live stacks\n`,
        );
    }
    report ??= await rebuild(values, values.rebuild ? undefined : daemon, ctx);
    ctx.stdout.write(
      format === "json" ? `${JSON.stringify(report, null, 2)}\n` : formatStatusText(report),
    );
    return STATUS_EXIT[statusVerdict(report)];
  },
};

function daemonUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
    return url.href.replace(/\/+$/, "");
  } catch {
    throw usage(
      `--daemon must be an http(s) URL (got ${value})`,
      `for example ${DEFAULT_DAEMON_URL}`,
    );
  }
}

async function askDaemon(
  url: string,
  signal: AbortSignal,
): Promise<{ ok: true; report: StatusReport } | { ok: false; why: string }> {
  try {
    const response = await fetch(`${url}/status`, {
      headers: { Accept: "application/json" },
      signal: AbortSignal.any([signal, AbortSignal.timeout(DAEMON_TIMEOUT_MS)]),
    });
    if (!response.ok) return { ok: false, why: `HTTP ${response.status}` };
    const body = parseDaemonStatus(await response.json());
    return {
      ok: true,
      report: {
        from: { kind: "daemon", url },
        source: body.source,
        lastPass: body.lastPass,
        busy: body.busy,
        clusters: body.clusters,
      },
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { ok: false, why: cause ?? (error instanceof Error ? error.message : String(error)) };
  }
}

async function rebuild(
  values: {
    path?: string | undefined;
    region?: string[] | undefined;
    local?: boolean | undefined;
    endpoint?: string | undefined;
    "ami-feed"?: string | undefined;
    owner?: string | undefined;
  },
  daemon: string | undefined,
  ctx: CommandContext,
): Promise<StatusReport> {
  const path = values.path ?? "clusters";
  const loaded = await loadManifests([path], ctx.cwd);
  // Errors of no document (a path that cannot be read) mean the status cannot be rebuilt.
  const unreadable = loaded.errors.filter((e) => e.rule.startsWith("file."));
  if (unreadable.length > 0 || loaded.files.length === 0) {
    if (unreadable.length > 0) ctx.stderr.write(formatManifestErrors(unreadable));
    throw terminal(
      `no manifests could be read under ${path}, so there is nothing to rebuild the status from`,
      `pass --path DIR, or start \`quorate run\` and point --daemon at it`,
    );
  }
  const { clients, amiFeed } = awsSetup(values, ctx);
  const revision = detectRevision(ctx.cwd, [path]);
  const live = await readLiveStatuses(loaded, {
    aws: clients,
    amiFeed,
    ...(revision !== "unversioned" ? { revision } : {}),
    ...(values.region ? { regions: values.region } : {}),
    owner: ownerFromFlags(values, ctx),
  });
  return {
    from: { kind: "live", path, regions: live.regions, ...(daemon ? { daemon } : {}) },
    ...(revision !== "unversioned" ? { revision } : {}),
    clusters: live.clusters,
    ...(Object.keys(live.unreachable).length > 0 ? { unreachable: live.unreachable } : {}),
  };
}
