// Plans for a whole repository of manifests: live (a change set per changed
// cluster) or offline (templates at a base revision stand in for the stacks).
// One cluster that fails to plan is reported as an error; the others still are.
import type { AwsClientPool } from "../aws/clients.js";
import { describeError } from "../errors.js";
import type { EtcdClientOptions } from "../etcd/client.js";
import { checkLiveVersions } from "../etcd/versionRules.js";
import { loadManifests, readManifestFiles } from "../manifest/load.js";
import type { InvalidManifest } from "../manifest/parse.js";
import { parseManifests } from "../manifest/parse.js";
import type { ClusterSpec } from "../manifest/types.js";
import { fromVerdict } from "../plan/etcdVersion.js";
import {
  errorClusterPlan,
  membersRoll,
  planForRemovedCluster,
  planFromTemplates,
  serviceSpecUpdateBehaviour,
  skippedClusterPlan,
  withLiveDetail,
  withSnapshotRequirement,
  withSpecWarnings,
} from "../plan/index.js";
import type { ClusterPlan, Plan } from "../plan/model.js";
import type { AmiFeed } from "../render/ami.js";
import { renderStack } from "../render/template.js";
import { readLiveDetail } from "./liveMembers.js";
import { DEFAULT_OWNER } from "./ownership.js";
import { type ClusterPreview, previewCluster } from "./preview.js";
import { refuseVersionStep } from "./versionGuard.js";

/** Bounded parallelism: AWS throttles bursts, and one stack update at a time is its advice. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export function invalidManifestPlans(invalid: readonly InvalidManifest[]): ClusterPlan[] {
  return invalid.map((i) =>
    errorClusterPlan({
      cluster: i.cluster ?? `${i.source.file}#${i.source.document}`,
      stackName: "",
      error: `invalid manifest: ${i.errors.map((e) => `${e.file}:${e.line}:${e.column}: ${e.path ? `${e.path}: ` : ""}${e.problem}`).join("; ")}`,
    }),
  );
}

export interface LivePlanOptions {
  aws: AwsClientPool;
  amiFeed: AmiFeed;
  revision: string;
  /** This quorate's owner name (default "default"): a stack with another owner is not planned. */
  owner?: string;
  keep: boolean;
  /** Manifest texts by file, so that a refused etcd version step names its line. */
  texts?: ReadonlyMap<string, string>;
  concurrency?: number;
  signal?: AbortSignal;
  /** For reading the current members of a cluster that will roll (TLS, timeouts). */
  etcd?: EtcdClientOptions;
}

export async function planLive(
  clusters: readonly ClusterSpec[],
  invalid: readonly InvalidManifest[],
  options: LivePlanOptions,
): Promise<Plan> {
  const planned = await mapBounded(clusters, options.concurrency ?? 4, async (spec) => {
    if (spec.suspend)
      return skippedClusterPlan({
        cluster: spec.name,
        stackName: spec.stackName,
        reason: "suspended (spec.suspend: true)",
      });
    try {
      const rendered = renderStack(spec, { imageId: await options.amiFeed.resolve(spec) });
      const preview = await previewCluster(options.aws(spec.region, spec.account), spec, rendered, {
        revision: options.revision,
        owner: options.owner ?? DEFAULT_OWNER,
        keep: options.keep,
        ...(options.texts?.has(spec.source.file)
          ? { manifestText: options.texts.get(spec.source.file) }
          : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      return await withLiveMembers(options, spec, preview);
    } catch (error) {
      return errorClusterPlan({
        cluster: spec.name,
        stackName: spec.stackName,
        error: describeError(error),
      });
    }
  });
  return {
    source: "change-set",
    revision: options.revision,
    clusters: [...planned, ...invalidManifestPlans(invalid)],
  };
}

/**
 * A plan whose members roll names them (who leads, who is a learner, their
 * versions) and expects a duration from the group's recorded rollouts, and etcd's version rules are checked against the versions the
 * members report: the live template says what was last asked for, the members
 * what runs (an interrupted rollout leaves them apart). Apply checks the same
 * again before it executes.
 */
async function withLiveMembers(
  options: LivePlanOptions,
  spec: ClusterSpec,
  preview: ClusterPreview,
): Promise<ClusterPlan> {
  if (!membersRoll(preview.plan)) return preview.plan;
  const detail = await readLiveDetail(
    options.aws(spec.region, spec.account),
    spec,
    preview.live,
    options.etcd,
  );
  const plan = withLiveDetail(preview.plan, detail);
  const members = detail.members;
  if (!plan.etcdVersion) return plan;
  const verdict = checkLiveVersions(
    members.members.map((m) => ({
      name: m.instanceId ?? m.name,
      ...(m.version ? { version: m.version } : {}),
    })),
    spec.etcd.version,
  );
  if (!verdict || verdict.allowed) return plan;
  return refuseVersionStep(
    { ...plan, etcdVersion: fromVerdict(verdict) },
    spec,
    options.texts?.get(spec.source.file),
  );
}

export interface OfflinePlanOptions {
  amiFeed: AmiFeed;
  /** Directory of the base revision's checkout, and the manifests path inside it. */
  baseDir: string;
  path: string;
  baseRevision: string;
  revision: string;
  /** The head's manifest texts by file: a file unchanged at the base is not parsed or rendered twice. */
  headTexts?: ReadonlyMap<string, string>;
}

/** --offline: the template rendered at the base revision stands in for each live stack. */
export async function planOffline(
  clusters: readonly ClusterSpec[],
  invalid: readonly InvalidManifest[],
  options: OfflinePlanOptions,
): Promise<Plan> {
  const baseClusters = await loadBase(clusters, options);
  const before = new Map(baseClusters.map((c) => [c.name, c]));
  const lookup = serviceSpecUpdateBehaviour();
  // A cluster whose manifest did not change is the same spec object on both sides: rendered once.
  const rendered = new Map<ClusterSpec, Promise<unknown>>();
  const render = (spec: ClusterSpec) => {
    let template = rendered.get(spec);
    if (!template) {
      template = options.amiFeed
        .resolve(spec)
        .then((imageId) => renderStack(spec, { imageId }).template);
      rendered.set(spec, template);
    }
    return template;
  };
  const planned: ClusterPlan[] = [];
  for (const spec of clusters) {
    try {
      const old = before.get(spec.name);
      const plan = planFromTemplates({
        cluster: spec.name,
        stackName: spec.stackName,
        before: old ? await render(old) : undefined,
        after: await render(spec),
        updateBehaviour: lookup,
      });
      const guarded = refuseVersionStep(plan, spec, options.headTexts?.get(spec.source.file));
      planned.push(withSnapshotRequirement(withSpecWarnings(guarded, spec), spec));
    } catch (error) {
      planned.push(
        errorClusterPlan({
          cluster: spec.name,
          stackName: spec.stackName,
          error: describeError(error),
        }),
      );
    }
  }
  const names = new Set([...clusters.map((c) => c.name), ...invalid.map((i) => i.cluster)]);
  for (const old of baseClusters) {
    if (names.has(old.name)) continue;
    planned.push(
      planForRemovedCluster({
        cluster: old.name,
        stackName: old.stackName,
        prune: old.prune && !old.terminationProtection,
        live: await render(old).catch(() => undefined),
      }),
    );
  }
  return {
    source: "offline",
    revision: options.revision,
    baseRevision: options.baseRevision,
    clusters: [...planned, ...invalidManifestPlans(invalid)],
  };
}

/** The base revision's clusters; files whose text the head has too are taken from the head. */
async function loadBase(
  head: readonly ClusterSpec[],
  options: OfflinePlanOptions,
): Promise<ClusterSpec[]> {
  if (!options.headTexts) return (await loadManifests([options.path], options.baseDir)).clusters;
  const { files } = await readManifestFiles([options.path], options.baseDir);
  const same = new Set(
    files.filter((f) => options.headTexts?.get(f.file) === f.text).map((f) => f.file),
  );
  const changed = parseManifests(files.filter((f) => !same.has(f.file))).clusters;
  return [...head.filter((spec) => same.has(spec.source.file)), ...changed];
}
