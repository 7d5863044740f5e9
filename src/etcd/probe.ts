// Probe every member of a cluster at once: health, status, member list and
// alarms, all calls in parallel so the probe takes about one call's time limit
// even when members hang. A member that does not answer is a result, never an
// exception. The gate (gate.ts) judges the result.
import { setMaxListeners } from "node:events";
import { describeError } from "../errors.js";
import { createEtcdClient, type EtcdClient, type EtcdClientOptions } from "./client.js";
import { endpointKey } from "./endpoint.js";
import { ETCD_ERRORS, EtcdRequestError, isEtcdError } from "./errors.js";
import type {
  Alarm,
  ClusterProbe,
  EndpointProbe,
  Member,
  MemberListDisagreement,
} from "./types.js";

export interface ProbeOptions extends EtcdClientOptions {
  /** Time limit of each call (the manifest's gates.probeTimeout); default 2000 ms. */
  timeoutMs?: number;
  /** Also read a key linearizably through each member: proves it reaches a quorum. */
  linearizableRead?: boolean;
  signal?: AbortSignal;
  /** Wall clock, for the probe time. */
  now?: () => number;
  /** Supply clients (a pool, for instance); by default one is made per endpoint and closed after. */
  clientFor?: (endpoint: string) => EtcdClient;
}

/** The key the linearizable read asks for; it need not exist. */
export const PROBE_KEY = "quorate/probe";

type Settled<T> = { ok: true; value: T } | { ok: false; error: string; cause: unknown };

async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (cause) {
    const error = cause instanceof EtcdRequestError ? cause.detail : describeError(cause);
    return { ok: false, error, cause };
  }
}

interface EndpointAnswers {
  probe: EndpointProbe;
  members?: Member[];
  membersError?: string;
  alarms?: Alarm[];
  alarmsError?: string;
}

async function probeEndpoint(
  endpoint: string,
  options: ProbeOptions,
  now: () => number,
): Promise<EndpointAnswers> {
  const started = now();
  let client: EtcdClient;
  try {
    client = options.clientFor?.(endpoint) ?? createEtcdClient(endpoint, options);
  } catch (error) {
    return { probe: { endpoint, reachable: false, error: describeError(error), tookMs: 0 } };
  }
  const call = options.signal ? { signal: options.signal } : {};
  try {
    const [health, status, list, alarms, read] = await Promise.all([
      settle(client.health(call)),
      settle(client.status(call)),
      settle(client.memberList(call)),
      settle(client.alarms(call)),
      options.linearizableRead ? settle(client.range(PROBE_KEY, call)) : undefined,
    ]);
    const answered = [health, status, list, alarms, read].filter((s) => s !== undefined);
    const firstError = answered.find(
      (s) => !s.ok && !isEtcdError(s.cause, "notSupportedForLearner"),
    );
    const probe: EndpointProbe = {
      endpoint,
      reachable: answered.some((s) => s.ok),
      tookMs: now() - started,
    };
    if (firstError && !firstError.ok) probe.error = firstError.error;
    if (health.ok) probe.health = health.value;
    if (status.ok) probe.status = status.value;
    if (list.ok) probe.memberIds = list.value.members.map((m) => m.id);
    // Learners serve no linearizable reads by design; that is not a failure of theirs.
    const learner = status.ok && status.value.isLearner;
    if (read && !(learner && !read.ok && isEtcdError(read.cause, "notSupportedForLearner"))) {
      probe.linearizableRead = read.ok ? { ok: true } : { ok: false, error: read.error };
    }
    const out: EndpointAnswers = { probe };
    if (list.ok) out.members = list.value.members;
    else out.membersError = list.error;
    if (alarms.ok) out.alarms = alarms.value;
    else out.alarmsError = alarms.error;
    return out;
  } finally {
    if (!options.clientFor) client.close();
  }
}

function sameIds(a: readonly bigint[], b: readonly bigint[]): boolean {
  const set = new Set(a);
  return a.length === b.length && b.every((id) => set.has(id));
}

/** Answers from the leader first (it holds the freshest view), then in endpoint order. */
function leaderFirst(answers: EndpointAnswers[]): EndpointAnswers[] {
  const isLeader = (a: EndpointAnswers) =>
    a.probe.status !== undefined && a.probe.status.leader === a.probe.status.header.memberId;
  return [...answers.filter(isLeader), ...answers.filter((a) => !isLeader(a))];
}

function errorsOf(
  answers: EndpointAnswers[],
  pick: (a: EndpointAnswers) => string | undefined,
): string {
  const errors = answers.flatMap((a) => {
    const e = pick(a);
    return e === undefined || e === ETCD_ERRORS.notSupportedForLearner
      ? []
      : [`${a.probe.endpoint}: ${e}`];
  });
  return errors.length ? errors.join("; ") : "no member answered";
}

export async function probeCluster(
  endpoints: string[],
  options: ProbeOptions = {},
): Promise<ClusterProbe> {
  const now = options.now ?? Date.now;
  const at = now();
  const unique = [...new Map(endpoints.map((e) => [endpointKey(e), e])).values()];
  // Every call of every endpoint listens for the abort: one relay signal keeps that to
  // one listener on the caller's signal, however large the cluster.
  const relay = new AbortController();
  setMaxListeners(0, relay.signal);
  const abort = () => relay.abort(options.signal?.reason);
  if (options.signal?.aborted) abort();
  else options.signal?.addEventListener("abort", abort, { once: true });
  const answers = await Promise.all(
    unique.map((e) =>
      probeEndpoint(e, { ...options, ...(options.signal ? { signal: relay.signal } : {}) }, now),
    ),
  ).finally(() => options.signal?.removeEventListener("abort", abort));
  const ordered = leaderFirst(answers);

  const probe: ClusterProbe = {
    at,
    tookMs: now() - at,
    endpoints: answers.map((a) => a.probe),
    memberListDisagreements: [],
  };
  const listSource = ordered.find((a) => a.members !== undefined);
  if (listSource?.members) {
    probe.members = listSource.members;
    probe.membersFrom = listSource.probe.endpoint;
    const ids = listSource.members.map((m) => m.id);
    probe.memberListDisagreements = answers
      .filter((a) => a.probe.memberIds !== undefined && !sameIds(ids, a.probe.memberIds))
      .map(
        (a): MemberListDisagreement => ({
          endpoint: a.probe.endpoint,
          memberIds: a.probe.memberIds ?? [],
        }),
      );
  } else {
    probe.memberListError = errorsOf(answers, (a) => a.membersError);
  }
  const alarmSource = ordered.find((a) => a.alarms !== undefined);
  if (alarmSource?.alarms) probe.alarms = alarmSource.alarms;
  else probe.alarmsError = errorsOf(answers, (a) => a.alarmsError);
  return probe;
}
