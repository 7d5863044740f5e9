// One reconcile pass over every cluster: sync the source, load and render the
// manifests, list the live stacks, decide per cluster, act, and write each
// cluster's status. Clusters are independent: one broken manifest or stack
// marks that cluster and the others go on.
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import type { AwsClientPool, AwsClients } from "../aws/clients.js";
import { deleteStack, describeStack, type LiveStack } from "../aws/stacks.js";
import { describeError, QuorateError, usage } from "../errors.js";
import type { EtcdClientOptions } from "../etcd/client.js";
import type { GateMemory } from "../etcd/gate.js";
import type { ClusterProbe } from "../etcd/types.js";
import { membersOf } from "../maintenance/decide.js";
import { durationMs } from "../manifest/duration.js";
import { type LoadedManifests, loadManifests } from "../manifest/load.js";
import type { ClusterSpec } from "../manifest/types.js";
import type { AmiFeed } from "../render/ami.js";
import { renderStack } from "../render/template.js";
import type { BranchRewind, SourceResult } from "../source/types.js";
import { type ApplyOutcome, applyCluster, rolloutFacts } from "./apply.js";
import { createAutoDefragStarter } from "./autoDefrag.js";
import { createBackupScheduler } from "./backup/scheduler.js";
import { REASON, type Reason, SOURCE_REASON } from "./conditions.js";
import {
  type DecisionMemory,
  desiredClusters,
  type ReconcileAction,
  refusedMessage,
  unreadManifest,
} from "./decide.js";
import { type HealthResult, type HealthTarget, probeRegionHealth } from "./health.js";
import { type Location, listingLocations, locationKey } from "./locations.js";
import { type MemberViews, memberViews } from "./memberView.js";
import { DEFAULT_OWNER } from "./ownership.js";
import { mapBounded } from "./planRepo.js";
import { planWork, unhandled, type WorkItem } from "./planWork.js";
import { createQuorumLossTracker } from "./quorumLoss.js";
import type { EventSink } from "./rollout/events.js";
import { superviseRollout } from "./rollout/supervisor.js";
import { listLocations } from "./stackListing.js";
import {
  backingOff,
  type ClusterStatus,
  initialStatus,
  type MemberDatabases,
  memberDatabases,
  nextStatus,
  type ReconcileOutcome,
  stackFacts,
  withBackup,
  withFaultTolerance,
} from "./status.js";
import { createTaskSlots } from "./taskSlots.js";

export interface ReconcileSource {
  /** Repository, credentials redacted. */
  readonly display: string;
  sync(signal?: AbortSignal): Promise<SourceResult>;
}

export interface ReconcilerOptions {
  source: ReconcileSource;
  /** Manifests inside the checkout. */
  path: string;
  aws: AwsClientPool;
  amiFeed: AmiFeed;
  etcd: EtcdClientOptions;
  onEvent: EventSink;
  /** Every status written, with the one before it and the outcome (the notifier listens). */
  onStatus?: StatusSink;
  /** once: a pass waits for the rollouts it starts; daemon: they run on in the background. */
  waitForRollouts: boolean;
  /** Clusters acted on at once (each makes its own AWS calls). */
  concurrency?: number;
  tickMs?: number;
  heartbeatEveryMs?: number;
  /** How long a location's stack listing may run on once another's has answered (default 5 s; with waitForRollouts, no limit). */
  listingPatienceMs?: number;
  /** Probe the members of in-sync clusters for HealthGatePassed (default true). */
  probeHealth?: boolean;
  /**
   * Defragment members of settled clusters whose spec.maintenance.autoDefrag
   * allows it (`quorate run`). Off by default: `reconcile --once` is one pass
   * for CI, and a defragmentation is no part of applying a commit.
   */
  autoDefrag?: boolean;
  /**
   * Take spec.backup's scheduled snapshots (`quorate run`): a background task,
   * in `running` like a rollout, for each cluster in sync whose newest good
   * snapshot is older than every. Default false (`reconcile --once` takes none).
   */
  scheduleBackups?: boolean;
  /**
   * Regions to look for orphaned stacks in (in the ambient account), besides
   * the accounts and regions the manifests name now or did before.
   */
  regions?: readonly string[];
  /**
   * This quorate's owner name (default "default"), tagged on every stack it
   * applies. Stacks with another owner are never applied, pruned or reported.
   */
  owner?: string;
  now?: () => number;
  random?: () => number;
}

export type StatusSink = (
  previous: ClusterStatus | undefined,
  next: ClusterStatus,
  outcome: ReconcileOutcome,
) => void;

export interface SourceStatus {
  repo: string;
  /** The owner this quorate applies stacks as (absent from daemons older than owners). */
  owner?: string;
  ok: boolean;
  revision?: string;
  reason?: string;
  message?: string;
  subject?: string;
  /** Files under the manifests path that were skipped (symbolic links), one line each. */
  warnings?: string[];
}

export interface PassSummary {
  revision?: string;
  source: SourceStatus;
  /** Only in the pass whose sync accepted a rewound branch: for the log's warning and the counter. */
  rewound?: { from: string; to: string; message: string };
  startedAt: string;
  durationMs: number;
  clusters: {
    cluster: string;
    /** busy: its rollout, defragmentation or scheduled snapshot still runs; backoff: waiting to retry; deferred: too many rollouts at once. */
    action: ReconcileAction["kind"] | "busy" | "backoff" | "deferred";
    outcome?: ReconcileOutcome["kind"];
  }[];
}

export interface Reconciler {
  pass(signal?: AbortSignal): Promise<PassSummary>;
  statuses(): ClusterStatus[];
  source(): SourceStatus;
  /** Resolves when every rollout started so far has finished. */
  settle(): Promise<void>;
  /** Clusters whose rollout, defragmentation or scheduled snapshot is running now. */
  busy(): string[];
  /** What runs now, one phrase per cluster ("rollout of dev", "defragmentation of prod"). */
  inFlight(): string[];
}

type Entry = PassSummary["clusters"][number];
interface RecordExtra {
  attempted?: boolean;
  stack?: LiveStack;
  spec?: ClusterSpec;
  /** Where the stack is, when no valid manifest says (an invalid manifest, an orphan). */
  region?: string;
  /** The members' database sizes, when this outcome comes with a probe. */
  databases?: MemberDatabases;
  members?: MemberViews;
}

async function isDirectoryOrFile(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export function createReconciler(options: ReconcilerOptions): Reconciler {
  const now = options.now ?? Date.now;
  const owner = options.owner ?? DEFAULT_OWNER;
  // Below one, a pass that waits for a free slot would wait forever.
  const limit = options.concurrency ?? 4;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw usage(`concurrency must be a whole number of at least 1 (got ${limit})`);
  const random = options.random ?? Math.random;
  const statuses = new Map<string, ClusterStatus>();
  const decisions = new Map<string, DecisionMemory>();
  const gateMemories = new Map<string, GateMemory>();
  const quorumLoss = createQuorumLossTracker({ aws: options.aws, now });
  const running = createTaskSlots(limit);
  const renderCache = new Map<string, { sha: string } | { error: string }>();
  let manifests: { revision: string; loaded: LoadedManifests } | undefined;
  let current: { revision: string; dir: string } | undefined;
  // The rewind that brought in the head being reconciled, reported until the head moves on.
  let rewind: (BranchRewind & { to: string }) | undefined;
  let sourceStatus: SourceStatus = {
    repo: options.source.display,
    owner,
    ok: false,
    message: "not synced yet",
  };

  const record = (cluster: string, outcome: ReconcileOutcome, extra: RecordExtra = {}) => {
    const before = statuses.get(cluster);
    const previous = before ?? initialStatus(cluster);
    const stack = extra.stack;
    const next = nextStatus(previous, outcome, {
      now: new Date(now()),
      ...(current ? { revision: current.revision } : {}),
      ...(extra.attempted ? { attempted: true } : {}),
      ...(stack ? { stack: stackFacts(stack) } : {}),
      backoff: { baseMs: 5_000, maxMs: 300_000, random: random() },
    });
    if (extra.region) next.region = extra.region;
    if (extra.databases) next.databases = extra.databases;
    if (extra.members) next.members = extra.members;
    if (extra.spec) {
      next.stackName = extra.spec.stackName;
      next.region = extra.spec.region;
      next.source = `${extra.spec.source.file}:${extra.spec.source.line}`;
    }
    statuses.set(cluster, next);
    options.onStatus?.(before, next, outcome);
    return outcome.kind;
  };

  // A rollout's fault-tolerance events keep the status true while it runs;
  // the cluster version after a minor upgrade stays in it until the next one.
  const onEvent: EventSink = (event) => {
    const previous = statuses.get(event.cluster);
    if (event.faultTolerance && previous) {
      statuses.set(
        event.cluster,
        withFaultTolerance(previous, event.faultTolerance, new Date(now())),
      );
    }
    const current = statuses.get(event.cluster);
    if (event.clusterVersion && current) {
      statuses.set(event.cluster, {
        ...current,
        etcdClusterVersion: { ...event.clusterVersion, message: event.message },
      });
    }
    options.onEvent(event);
  };

  const startDefrag = createAutoDefragStarter({
    enabled: options.autoDefrag === true,
    aws: options.aws,
    etcd: options.etcd,
    onEvent,
    now,
    ...(options.tickMs ? { tickMs: options.tickMs } : {}),
    slots: running,
  });

  const backups = createBackupScheduler({
    aws: options.aws,
    etcd: options.etcd,
    onEvent,
    now,
    random,
    // A snapshot ends between passes: its BackupReady should not wait for the next one.
    onChange: (cluster) => refreshBackup(cluster, lastSpecs.get(cluster)),
  });
  /** Each cluster's spec at the last pass, for the status of a snapshot that ends between passes. */
  const lastSpecs = new Map<string, ClusterSpec>();
  const refreshBackup = (cluster: string, spec: ClusterSpec | undefined) => {
    const status = statuses.get(cluster);
    if (status)
      statuses.set(
        cluster,
        withBackup(status, backups.view(cluster, spec?.backup), new Date(now())),
      );
  };

  // A rollout's probes keep the members in the status true while it runs.
  const onProbe = (cluster: string, probe: ClusterProbe) => {
    const status = statuses.get(cluster);
    if (status) statuses.set(cluster, { ...status, members: memberViews(probe) });
  };

  const rolloutDeps = () => ({
    aws: options.aws,
    amiFeed: options.amiFeed,
    etcd: options.etcd,
    onEvent,
    onProbe,
    now,
    ...(options.tickMs ? { tickMs: options.tickMs } : {}),
    ...(options.heartbeatEveryMs ? { heartbeatEveryMs: options.heartbeatEveryMs } : {}),
  });

  async function applyTask(
    spec: ClusterSpec,
    revision: string,
    signal?: AbortSignal,
  ): Promise<ReconcileOutcome> {
    let outcome: ApplyOutcome;
    try {
      outcome = await applyCluster({ ...rolloutDeps(), ...(signal ? { signal } : {}) }, spec, {
        revision,
        owner,
      });
    } catch (error) {
      // Refused for good (a template AWS rejects, a denied call): not tried again each pass.
      if (error instanceof QuorateError && error.kind === "terminal")
        return refuse(spec, REASON.StackNeedsOperator, describeError(error));
      return failure(error);
    }
    const rendered = renderCache.get(cacheKey(spec));
    switch (outcome.result) {
      case "applied":
      case "no-change":
        return {
          kind: "applied",
          message: outcome.message,
          ...(outcome.gate ? { gate: outcome.gate } : {}),
        };
      case "gate-blocked":
        return {
          kind: "gate-blocked",
          message: outcome.message,
          ...(outcome.gate ? { gate: outcome.gate } : {}),
        };
      case "snapshot-missing":
        return { kind: "snapshot-missing", message: outcome.message };
      case "rolled-back":
        if (rendered && "sha" in rendered)
          decisions.set(spec.name, { rolledBackSha256: rendered.sha });
        return {
          kind: "rolled-back",
          message: outcome.message,
          ...(outcome.gate ? { gate: outcome.gate } : {}),
        };
      case "change-set-failed":
        // Remembered by template hash, so that the next pass makes no new change set for it.
        return refuse(spec, REASON.ChangeSetFailed, outcome.message);
      case "restore-refused":
        // The same snapshot is refused next pass too: held until the manifest changes.
        return refuse(spec, REASON.RestoreRefused, outcome.message);
      case "replacement-refused":
        // The same manifest replaces the same group next pass too: held until it changes.
        return refuse(spec, REASON.GroupReplacementRefused, outcome.message);
      case "version-refused":
        // The same template meets the same members next pass: refused until the manifest changes.
        return refuse(spec, REASON.EtcdVersionRefused, outcome.message);
      case "needs-operator":
      case "declined":
      case "error":
        return { kind: "stalled", reason: REASON.StackNeedsOperator, message: outcome.message };
    }
  }

  /**
   * Remembers that this template failed for good, so that the next pass makes
   * no new change set for it (decide stalls it until the template changes).
   */
  function refuse(spec: ClusterSpec, reason: Reason, why: string): ReconcileOutcome {
    const rendered = renderCache.get(cacheKey(spec));
    if (!rendered || !("sha" in rendered)) return { kind: "stalled", reason, message: why };
    decisions.set(spec.name, { refused: { sha256: rendered.sha, reason, message: why } });
    return { kind: "stalled", reason, message: refusedMessage(spec.name, why) };
  }

  async function superviseTask(spec: ClusterSpec, signal?: AbortSignal): Promise<ReconcileOutcome> {
    try {
      const facts = rolloutFacts(spec, options.heartbeatEveryMs);
      const rollout = await superviseRollout({
        aws: options.aws(spec.region, spec.account),
        facts,
        etcd: { ...options.etcd, probeTimeoutMs: durationMs(spec.gates.probeTimeout) },
        onEvent,
        onProbe,
        now,
        ...(options.tickMs ? { tickMs: options.tickMs } : {}),
        ...(signal ? { signal } : {}),
      });
      const gate = rollout.gate ? { gate: rollout.gate } : {};
      if (rollout.result === "complete")
        return { kind: "applied", message: rollout.message, ...gate };
      if (rollout.result === "rolled-back")
        return { kind: "rolled-back", message: rollout.message, ...gate };
      return { kind: "stalled", reason: REASON.StackNeedsOperator, message: rollout.message };
    } catch (error) {
      return failure(error);
    }
  }

  function render(spec: ClusterSpec): Promise<{ sha: string } | { error: string }> {
    const key = cacheKey(spec);
    const cached = renderCache.get(key);
    if (cached) return Promise.resolve(cached);
    return options.amiFeed.resolve(spec).then(
      (imageId) => {
        const result = { sha: renderStack(spec, { imageId }).templateSha256 };
        renderCache.set(key, result);
        return result;
      },
      (error) => {
        // Only a terminal failure is remembered; a transient one (feed unreachable) is retried.
        const result = { error: describeError(error) };
        if (error instanceof QuorateError && error.kind === "terminal")
          renderCache.set(key, result);
        return result;
      },
    );
  }

  /**
   * Syncs the source; keeps the last good revision when the head cannot be
   * used. Returns the rewind this sync accepted, if it did.
   */
  async function syncSource(signal?: AbortSignal): Promise<PassSummary["rewound"]> {
    const synced = await options.source.sync(signal);
    if (synced.ok) {
      current = { revision: synced.revision, dir: synced.dir };
      if (synced.rewound) rewind = { ...synced.rewound, to: synced.revision };
      else if (rewind?.to !== synced.revision) rewind = undefined;
      sourceStatus = {
        repo: options.source.display,
        owner,
        ok: true,
        revision: synced.revision,
        subject: synced.subject,
        ...(rewind ? { reason: SOURCE_REASON.BranchRewound, message: rewind.message } : {}),
      };
      const accepted = synced.rewound;
      return accepted && { from: accepted.from, to: synced.revision, message: accepted.message };
    }
    sourceStatus = {
      repo: options.source.display,
      owner,
      ok: false,
      // The name quorate has always reported it under, whichever side noticed.
      reason: synced.reason === "path-missing" ? SOURCE_REASON.ManifestsPathMissing : synced.reason,
      message: synced.message,
      ...(current ? { revision: current.revision } : {}),
    };
    // An unreachable remote or an untrusted head: keep reconciling the last good revision.
    if (!current && synced.lastGood) current = { ...synced.lastGood };
    return undefined;
  }

  function pathMissing(revision: string, keptRevision: string | undefined): SourceStatus {
    const kept = keptRevision
      ? `quorate keeps reconciling ${keptRevision.slice(0, 12)}`
      : "nothing is reconciled until it is back";
    return {
      ...sourceStatus,
      ok: false,
      reason: SOURCE_REASON.ManifestsPathMissing,
      message: `${options.path} does not exist at ${revision.slice(0, 12)}, so nothing there was applied or pruned and ${kept}. Fix --path, or restore the directory; to delete every cluster, keep the directory in git (a .gitkeep) and delete the manifests in it`,
      ...(keptRevision ? { revision: keptRevision } : {}),
    };
  }

  /**
   * Every account and region a manifest names now or named at an earlier
   * pass: a deleted manifest's stack is still looked for where it was, for its
   * orphan report or prune (in memory only, like the statuses' regions).
   */
  const listedBefore = new Map<string, Location>();
  /** Locations not waited for at the pass before: waited for in full at the next, so none starves. */
  let cutOffBefore: ReadonlySet<string> = new Set();

  /** Every stack of the locations the clusters are in now or were in before (for orphans). */
  async function listLive(loaded: LoadedManifests) {
    const locations = listingLocations({
      clusters: loaded.clusters,
      ...(options.regions ? { regions: options.regions } : {}),
      // Every status's location was listed at some pass, so this covers them all,
      // without listing a role's region again in the ambient account.
      before: listedBefore.values(),
    });
    for (const location of locations) listedBefore.set(locationKey(location), location);
    // A one-shot pass (reconcile --once) has no next pass to catch up in: it waits for every location.
    const patienceMs =
      options.listingPatienceMs ?? (options.waitForRollouts ? Infinity : undefined);
    const listing = await listLocations(options.aws, locations, {
      waitInFull: cutOffBefore,
      ...(patienceMs !== undefined ? { patienceMs } : {}),
    });
    cutOffBefore = listing.cutOff;
    return listing;
  }

  async function pass(signal?: AbortSignal): Promise<PassSummary> {
    const started = now();
    const summary: PassSummary["clusters"] = [];
    /** Records a cluster's outcome and lists it in the pass summary. */
    const note = (
      name: string,
      action: Entry["action"],
      outcome: ReconcileOutcome,
      extra: RecordExtra = {},
    ) => summary.push({ cluster: name, action, outcome: record(name, outcome, extra) });

    const rewound = await syncSource(signal);
    const finishPass = (clusters: PassSummary["clusters"]) =>
      passSummary(started, clusters, rewound);
    if (!current) return finishPass(summary);
    if (manifests?.revision !== current.revision) {
      if (await isDirectoryOrFile(resolve(current.dir, options.path))) {
        const loaded = await loadManifests([options.path], current.dir);
        manifests = { revision: current.revision, loaded };
      } else {
        // A missing manifests directory is far likelier a mistake (a wrong --path,
        // a moved directory) than a wish to delete every cluster: never prune on it.
        // The git source refuses such a head itself when it knows the path
        // (sourceFromFlags); this covers a source that does not.
        sourceStatus = pathMissing(current.revision, manifests?.revision);
        if (!manifests) {
          current = undefined; // no revision is being reconciled
          return finishPass(summary);
        }
        current = { ...current, revision: manifests.revision };
      }
    }
    const revision = manifests.revision;
    const loaded = manifests.loaded;
    if (loaded.warnings.length > 0) sourceStatus = { ...sourceStatus, warnings: loaded.warnings };
    const rendered = new Map<string, { sha: string } | { error: string }>();
    await mapBounded(loaded.clusters, 8, async (spec) => {
      rendered.set(spec.name, await render(spec));
    });
    const { stacks, unreachable, refused } = await listLive(loaded);
    const unread = unreadManifest(loaded.errors);
    const work = planWork({
      desired: desiredClusters(loaded, rendered),
      stacks,
      unreachable,
      refused,
      owner,
      memory: decisions,
      ...(unread ? { unread } : {}),
    });

    const healthy: HealthTarget[] = [];
    const tasks: Promise<void>[] = [];
    for (const item of work) {
      const { cluster: name, spec, stack, action, region } = item;
      const extra: RecordExtra = {
        ...(spec ? { spec } : {}),
        ...(stack ? { stack } : {}),
        ...(region ? { region } : {}),
      };
      const report = (entry: Entry["action"], outcome: ReconcileOutcome) =>
        note(name, entry, outcome, extra);
      if (running.has(name)) {
        summary.push({ cluster: name, action: "busy" });
        continue;
      }
      switch (action.kind) {
        case "unreachable":
          report("backoff", { kind: "transient", message: action.message });
          break;
        case "not-ours":
          report("stall", {
            kind: "stalled",
            reason: REASON.StackNeedsOperator,
            message: action.message,
          });
          break;
        case "being-deleted":
          report("none", { kind: "deleting", message: action.message });
          break;
        case "unsupervisable":
          report("supervise", {
            kind: "progressing",
            reason: REASON.RolloutInProgress,
            message: action.message,
          });
          break;
        case "none":
          if (spec && stack && options.probeHealth !== false) healthy.push({ spec, stack });
          else report("none", { kind: "ready", message: action.reason });
          break;
        case "suspended":
          report("suspended", { kind: "suspended" });
          break;
        case "stall":
          report("stall", { kind: "stalled", reason: action.reason, message: action.message });
          break;
        case "orphan":
          report("orphan", { kind: "orphaned", message: action.message });
          break;
        case "delete":
          report("delete", await deleteOrphan(item, action.message));
          break;
        case "apply":
        case "supervise": {
          if (action.kind === "apply" && backingOff(statuses.get(name), new Date(now()))) {
            summary.push({ cluster: name, action: "backoff" });
            break;
          }
          // planWork gives apply and supervise only to clusters with a valid manifest.
          if (!spec) throw new Error(`${name}: ${action.kind} without a manifest`);
          const started = await startRollout(name, spec, action, extra, summary, revision, signal);
          if (started) tasks.push(started.task);
          break;
        }
        default:
          unhandled(action);
      }
    }

    // A status with no stack behind it that this pass has no work for (a bad file
    // since fixed or deleted, reported as file#document) is forgotten: it would
    // otherwise stay Stalled in /status until a restart.
    const worked = new Set(work.map((w) => w.cluster));
    for (const [name, status] of statuses)
      if (!worked.has(name) && !running.has(name) && status.stackStatus === undefined)
        statuses.delete(name);
    await recordHealth(healthy, summary, revision, tasks, signal);
    scheduleSnapshots(work, signal);
    if (options.waitForRollouts) await Promise.all(tasks);
    return finishPass(summary);
  }

  async function deleteOrphan(item: WorkItem, message: string): Promise<ReconcileOutcome> {
    try {
      if (item.stack && item.region)
        await deleteStack(
          options.aws(item.region, item.account).cloudFormation,
          item.stack.stackName,
        );
      return { kind: "deleting", message };
    } catch (error) {
      return failure(error);
    }
  }

  /** Starts an apply or a supervision in the background, within the concurrency bound. */
  async function startRollout(
    name: string,
    spec: ClusterSpec,
    action: { kind: "apply" | "supervise"; reason: string },
    extra: RecordExtra,
    summary: PassSummary["clusters"],
    revision: string,
    signal?: AbortSignal,
  ): Promise<{ task: Promise<void> } | undefined> {
    if (running.full()) {
      if (!options.waitForRollouts) {
        summary.push({ cluster: name, action: "deferred" });
        return undefined;
      }
      await running.waitForFree();
    }
    const attempted = action.kind === "apply";
    const reason = attempted ? REASON.Progressing : REASON.RolloutInProgress;
    record(name, { kind: "progressing", reason, message: action.reason }, { ...extra, attempted });
    summary.push({ cluster: name, action: action.kind });
    const task = (attempted ? applyTask(spec, revision, signal) : superviseTask(spec, signal)).then(
      async (outcome) => {
        const after = await listStackQuietly(
          options.aws(spec.region, spec.account),
          spec.stackName,
        );
        record(name, outcome, { spec, ...(after ? { stack: after } : {}), attempted });
        // beforeChange may have taken a snapshot: the schedule reads the bucket again.
        if (attempted) backups.reread(name);
        const entry = summary.find((s) => s.cluster === name);
        if (entry) entry.outcome = outcome.kind;
      },
    );
    const tracked = running.track(name, "rollout", task);
    // Wrapped: an async function returning the promise itself would wait for it.
    return { task: tracked };
  }

  /** In-sync clusters: their health, probed in batches per account and region. */
  async function recordHealth(
    healthy: HealthTarget[],
    summary: PassSummary["clusters"],
    revision: string,
    tasks: Promise<void>[],
    signal?: AbortSignal,
  ): Promise<void> {
    const byLocation = new Map<string, HealthTarget[]>();
    for (const h of healthy)
      byLocation.set(locationKey(h.spec), [...(byLocation.get(locationKey(h.spec)) ?? []), h]);
    await Promise.all(
      [...byLocation.values()].map(async (targets) => {
        let probed = new Map<string, HealthResult>();
        // Every target of a batch has the same account and region.
        const { region, account } = targets[0]!.spec;
        try {
          probed = await probeRegionHealth(
            options.aws(region, account),
            targets,
            options.etcd,
            gateMemories,
            now,
          );
        } catch (error) {
          for (const t of targets)
            summary.push({
              cluster: t.spec.name,
              action: "none",
              outcome: record(t.spec.name, failure(error), t),
            });
          return;
        }
        for (const { spec, stack } of targets) {
          const health = probed.get(spec.name);
          const lost = health ? await quorumLoss.outcome(spec, health.gate) : undefined;
          const outcome: ReconcileOutcome = lost ?? {
            kind: "ready",
            message: `stack ${stack.status} matches revision ${revision.slice(0, 12)}`,
            ...(health ? { gate: health.gate } : {}),
          };
          const databases = health
            ? {
                databases: memberDatabases(membersOf(health.probe), new Date(health.probe.at)),
                members: memberViews(health.probe),
              }
            : {};
          summary.push({
            cluster: spec.name,
            action: "none",
            outcome: record(spec.name, outcome, { spec, stack, ...databases }),
          });
          if (health) {
            const task = startDefrag(spec, stack, health, signal);
            if (task) tasks.push(task);
          }
        }
      }),
    );
  }

  /**
   * Scheduled snapshots of the clusters in sync, started after the rollouts
   * and defragmentations so that these get the free slots first; then every
   * cluster's BackupReady, which ages between snapshots. A snapshot is a task
   * in `running`, so that no rollout starts under it (its beforeChange would
   * take a second snapshot at the same time) and no second one starts.
   */
  function scheduleSnapshots(work: readonly WorkItem[], signal?: AbortSignal): void {
    lastSpecs.clear();
    for (const { cluster, spec, action } of work) {
      if (spec) lastSpecs.set(cluster, spec);
      if (!options.scheduleBackups || !spec?.backup || running.full()) continue;
      // Only "none" is a settled stack in sync: apply and supervise mean a rollout, and a
      // suspended, stalled or unreachable cluster is left as it is.
      const task = backups.consider(spec, action.kind !== "none" || running.has(cluster), signal);
      if (task) running.track(cluster, "scheduled snapshot", task);
    }
    // Without the schedule nothing reads the bucket, and BackupReady could only say Unknown.
    for (const { cluster, spec } of work)
      refreshBackup(cluster, options.scheduleBackups ? spec : undefined);
  }

  function passSummary(
    started: number,
    clusters: PassSummary["clusters"],
    rewound: PassSummary["rewound"],
  ): PassSummary {
    return {
      ...(current ? { revision: current.revision } : {}),
      source: sourceStatus,
      ...(rewound ? { rewound } : {}),
      startedAt: new Date(started).toISOString(),
      durationMs: now() - started,
      clusters,
    };
  }

  return {
    pass,
    statuses: () => [...statuses.values()].sort((a, b) => a.cluster.localeCompare(b.cluster)),
    source: () => sourceStatus,
    settle: async () => {
      await running.settle();
    },
    busy: () => running.clusters(),
    inFlight: () => running.describe(),
  };
}

function cacheKey(spec: ClusterSpec): string {
  const { source: _source, ...rest } = spec;
  return `${spec.source.file}\u0000${JSON.stringify(rest)}`;
}

function failure(error: unknown): ReconcileOutcome {
  if (error instanceof QuorateError && error.kind === "terminal") {
    return { kind: "stalled", reason: REASON.StackNeedsOperator, message: describeError(error) };
  }
  return { kind: "transient", message: describeError(error) };
}

async function listStackQuietly(
  aws: AwsClients,
  stackName: string,
): Promise<LiveStack | undefined> {
  try {
    return await describeStack(aws.cloudFormation, stackName);
  } catch {
    return undefined;
  }
}
