// CloudFormation's AutoScalingRollingUpdate as a pure state machine: given the
// policy, the update's state and what the group looks like now, the next
// actions (terminate, launch, set capacity) and the stack events to write.
// The wordings are the ones CloudFormation writes
// (docs/references.md#rolling-update-events).
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-updatepolicy.html
//
// Each batch terminates up to MaxBatchSize obsolete instances while keeping
// MinInstancesInService in service, then launches their replacements, then
// waits for their signals (WaitOnResourceSignals, PauseTime as the timeout) or
// for PauseTime. With MinInstancesInService = N-1 a batch terminates first and
// launches second. When MinInstancesInService leaves no room to terminate
// (= N), the capacity is raised first, so the first batch only launches.

export interface RollingPolicy {
  maxBatchSize: number;
  minInstancesInService: number;
  minSuccessfulInstancesPercent: number;
  waitOnResourceSignals: boolean;
  /** PauseTime in milliseconds, already time-scaled. */
  pauseMs: number;
  /** PauseTime as written in the template (PT15M), for the event wordings. */
  pauseText: string;
  suspendProcesses: string[];
}

export interface RollingInstance {
  instanceId: string;
  lifecycleState: string;
  /** Launched from the group's current launch template version and in one of its subnets. */
  upToDate: boolean;
  launchTime: number;
}

export interface GroupView {
  now: number;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  instances: RollingInstance[];
  /** SUCCESS / FAILURE signals received during the update, by UniqueId. */
  signals: { uniqueId: string; status: "SUCCESS" | "FAILURE" }[];
}

export type RollingPhase =
  | "start"
  | "batch"
  | "terminating"
  | "launching"
  | "waiting"
  | "pausing"
  | "finishing"
  | "done"
  | "failed";

export interface RollingState {
  phase: RollingPhase;
  /** Group capacity during the update (raised above desired when launching first). */
  capacity: number;
  original: { minSize: number; desiredCapacity: number };
  obsoleteTotal: number;
  obsoleteTerminated: number;
  launchesRemaining: number;
  launchedTotal: number;
  batch?: {
    terminate: string[];
    launchCount: number;
    launched: string[];
    deadline?: number;
  };
  pauseUntil?: number;
  failure?: string;
}

export type RollingAction =
  | { kind: "set-capacity"; minSize: number; desiredCapacity: number }
  | { kind: "terminate"; instanceIds: string[] }
  /** The caller launches and reports the new ids with recordLaunched(). */
  | { kind: "launch"; count: number };

export interface RollingStep {
  state: RollingState;
  actions: RollingAction[];
  events: string[];
  /** When to look again even if nothing happens (a signal timeout, a pause). */
  wakeAt?: number;
}

const TERMINATING = new Set([
  "Terminating",
  "Terminating:Wait",
  "Terminating:Proceed",
  "Terminated",
]);

export function initialRollingState(
  view: Pick<GroupView, "minSize" | "desiredCapacity">,
): RollingState {
  return {
    phase: "start",
    capacity: view.desiredCapacity,
    original: { minSize: view.minSize, desiredCapacity: view.desiredCapacity },
    obsoleteTotal: 0,
    obsoleteTerminated: 0,
    launchesRemaining: 0,
    launchedTotal: 0,
  };
}

/** Whether an update must replace instances at all: some live instance does not match. */
export function needsRollingUpdate(instances: readonly RollingInstance[]): boolean {
  return instances.some((i) => !TERMINATING.has(i.lifecycleState) && !i.upToDate);
}

/** Records the ids the caller launched for the current batch. */
export function recordLaunched(state: RollingState, instanceIds: readonly string[]): RollingState {
  if (!state.batch) return state;
  return {
    ...state,
    batch: { ...state.batch, launched: [...state.batch.launched, ...instanceIds] },
  };
}

/** Advances the update as far as it can go now. */
export function planRollingUpdate(
  policy: RollingPolicy,
  state: RollingState,
  view: GroupView,
): RollingStep {
  const step: RollingStep = { state: structuredClone(state), actions: [], events: [] };
  // Each phase either settles (returns) or moves to the next phase and loops.
  for (let guard = 0; guard < 20; guard++) {
    const before = step.state.phase;
    advance(policy, step, view);
    if (step.state.phase === before || step.state.phase === "done" || step.state.phase === "failed")
      break;
  }
  return step;
}

function live(view: GroupView): RollingInstance[] {
  return view.instances.filter((i) => !TERMINATING.has(i.lifecycleState));
}

function advance(policy: RollingPolicy, step: RollingStep, view: GroupView): void {
  const s = step.state;
  switch (s.phase) {
    case "start":
      start(policy, step, view);
      return;
    case "batch":
      startBatch(policy, step, view);
      return;
    case "terminating":
      awaitTerminations(step, view);
      return;
    case "launching":
      launch(policy, step, view);
      return;
    case "waiting":
      awaitBatch(policy, step, view);
      return;
    case "pausing":
      if (s.pauseUntil !== undefined && view.now < s.pauseUntil) {
        step.wakeAt = s.pauseUntil;
        return;
      }
      s.pauseUntil = undefined;
      s.phase = "batch";
      return;
    case "finishing":
      if (s.capacity !== s.original.desiredCapacity) {
        step.actions.push({
          kind: "set-capacity",
          minSize: s.original.minSize,
          desiredCapacity: s.original.desiredCapacity,
        });
      }
      s.phase = "done";
      return;
    case "done":
    case "failed":
      return;
  }
}

function start(policy: RollingPolicy, step: RollingStep, view: GroupView): void {
  const s = step.state;
  const M = policy.minInstancesInService;
  const B = Math.max(1, policy.maxBatchSize);
  if (M >= view.maxSize) {
    fail(
      step,
      `MinInstancesInService (${M}) must be less than the Auto Scaling group's MaxSize (${view.maxSize})`,
    );
    return;
  }
  const current = live(view);
  const obsolete = current.filter((i) => !i.upToDate);
  s.obsoleteTotal = obsolete.length;
  if (obsolete.length === 0) {
    s.phase = "done";
    return;
  }
  s.launchesRemaining = Math.max(0, view.desiredCapacity - (current.length - obsolete.length));
  s.capacity = view.desiredCapacity;
  if (M >= view.desiredCapacity) {
    // No instance may go before a new one is in service: launch first.
    s.capacity = Math.min(view.desiredCapacity + B, view.maxSize);
    step.actions.push({ kind: "set-capacity", minSize: s.capacity, desiredCapacity: s.capacity });
    step.events.push(
      `Temporarily setting autoscaling group MinSize and DesiredCapacity to ${s.capacity}.`,
    );
  }
  const signals = policy.waitOnResourceSignals
    ? ` Waiting on resource signals with a timeout of ${policy.pauseText} when new instances are added to the autoscaling group.`
    : "";
  step.events.push(
    `Rolling update initiated. Terminating ${obsolete.length} obsolete instance(s) in batches of ${B}, while keeping at least ${M} instance(s) in service.${signals}`,
  );
  s.phase = "batch";
}

function startBatch(policy: RollingPolicy, step: RollingStep, view: GroupView): void {
  const s = step.state;
  const current = live(view);
  const obsolete = current
    .filter((i) => !i.upToDate)
    .sort((a, b) => a.launchTime - b.launchTime || a.instanceId.localeCompare(b.instanceId));
  if (obsolete.length === 0 && s.launchesRemaining === 0) {
    s.phase = "finishing";
    return;
  }
  const inService = current.filter((i) => i.lifecycleState === "InService").length;
  const room = Math.max(0, inService - policy.minInstancesInService);
  const terminate = obsolete.slice(0, Math.min(Math.max(1, policy.maxBatchSize), room));
  const launchCount = Math.max(
    0,
    Math.min(s.capacity - (current.length - terminate.length), s.launchesRemaining),
  );
  if (terminate.length === 0 && launchCount === 0) {
    // Nothing can go and nothing is missing: new instances are not in service yet.
    return;
  }
  s.batch = { terminate: terminate.map((i) => i.instanceId), launchCount, launched: [] };
  if (terminate.length > 0) {
    step.events.push(
      `Terminating instance(s) [${s.batch.terminate.join(",")}]; replacing with ${launchCount} new instance(s).`,
    );
    step.actions.push({ kind: "terminate", instanceIds: s.batch.terminate });
    s.phase = "terminating";
  } else {
    s.phase = "launching";
  }
}

function awaitTerminations(step: RollingStep, view: GroupView): void {
  const s = step.state;
  const batch = s.batch!;
  const present = new Set(view.instances.map((i) => i.instanceId));
  if (batch.terminate.some((id) => present.has(id))) return;
  s.obsoleteTerminated += batch.terminate.length;
  const progress =
    s.obsoleteTotal === 0 ? 100 : Math.round((s.obsoleteTerminated / s.obsoleteTotal) * 100);
  step.events.push(
    `Successfully terminated instance(s) [${batch.terminate.join(",")}] (Progress ${progress}%).`,
  );
  s.phase = "launching";
}

function launch(policy: RollingPolicy, step: RollingStep, view: GroupView): void {
  const s = step.state;
  const batch = s.batch!;
  if (batch.launchCount === 0) {
    s.batch = undefined;
    s.phase = "batch";
    return;
  }
  step.actions.push({ kind: "launch", count: batch.launchCount });
  s.launchesRemaining -= batch.launchCount;
  s.launchedTotal += batch.launchCount;
  if (policy.waitOnResourceSignals) {
    batch.deadline = view.now + policy.pauseMs;
    step.wakeAt = batch.deadline;
    step.events.push(
      `New instance(s) added to autoscaling group - Waiting on ${batch.launchCount} resource signal(s) with a timeout of ${policy.pauseText}.`,
    );
  } else {
    step.events.push("New instance(s) added to autoscaling group.");
  }
  s.phase = "waiting";
}

function awaitBatch(policy: RollingPolicy, step: RollingStep, view: GroupView): void {
  const s = step.state;
  const batch = s.batch!;
  if (!policy.waitOnResourceSignals) {
    // Without signals: once the new instances are in service (or gone), pause.
    const byId = new Map(view.instances.map((i) => [i.instanceId, i]));
    const settled = batch.launched.every((id) => {
      const state = byId.get(id)?.lifecycleState;
      return state === undefined || state === "InService" || TERMINATING.has(state);
    });
    if (batch.launched.length < batch.launchCount || !settled) return;
    s.batch = undefined;
    s.pauseUntil = view.now + policy.pauseMs;
    s.phase = "pausing";
    return;
  }
  const launched = new Set(batch.launched);
  const ofBatch = view.signals.filter((sig) => launched.has(sig.uniqueId));
  const success = new Set(
    ofBatch.filter((sig) => sig.status === "SUCCESS").map((sig) => sig.uniqueId),
  );
  const failure = new Set(
    ofBatch.filter((sig) => sig.status === "FAILURE").map((sig) => sig.uniqueId),
  );
  const received = success.size + failure.size;
  const timedOut = batch.deadline !== undefined && view.now >= batch.deadline;
  if (received < batch.launchCount && !timedOut) {
    // Fail early when the FAILURE signals already make the threshold unreachable.
    const bestCase = successesSoFar(view) + (batch.launchCount - received);
    if (failure.size > 0 && !satisfies(policy, bestCase, s.launchedTotal)) {
      failBatch(policy, step, view);
      return;
    }
    step.wakeAt = batch.deadline;
    return;
  }
  if (timedOut && received < batch.launchCount) {
    step.events.push(
      `Failed to receive ${batch.launchCount - received} resource signal(s) for the current batch.  Each resource signal timeout is counted as a FAILURE.`,
    );
  }
  if (!satisfies(policy, successesSoFar(view), s.launchedTotal)) {
    failBatch(policy, step, view);
    return;
  }
  s.batch = undefined;
  s.phase = "batch";
}

function successesSoFar(view: GroupView): number {
  return new Set(view.signals.filter((sig) => sig.status === "SUCCESS").map((sig) => sig.uniqueId))
    .size;
}

function satisfies(policy: RollingPolicy, successes: number, launched: number): boolean {
  return successes * 100 >= policy.minSuccessfulInstancesPercent * launched;
}

function failBatch(policy: RollingPolicy, step: RollingStep, view: GroupView): void {
  fail(
    step,
    `Received ${successesSoFar(view)} SUCCESS signal(s) out of ${step.state.launchedTotal}.  Unable to satisfy ${policy.minSuccessfulInstancesPercent}% MinSuccessfulInstancesPercent requirement`,
  );
}

function fail(step: RollingStep, reason: string): void {
  step.state.phase = "failed";
  step.state.failure = reason;
}
