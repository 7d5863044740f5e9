// What a rollout did to a cluster's fault tolerance, from samples taken outside
// quorate (tests and benchmarks). Pure: the sampler in faultToleranceWatch.ts
// does the IO.
import { quorumOf } from "./quorum.js";

export interface ToleranceSample {
  /** Wall-clock ms. */
  at: number;
  /** Voting members in etcd's member list; undefined when no member answered the list. */
  voters?: number;
  /** Voters whose status answered with a leader. */
  healthyVoters: number;
  /** The leader most healthy voters follow (hex id); undefined when none. */
  leader?: string;
}

export interface ToleranceSummary {
  samples: number;
  /** Time spent tolerating fewer failures than at rest (a sample's value holds until the next). */
  msBelowResting: number;
  /** Samples in which no member answered the member list (counted as below resting). */
  unanswered: number;
  minTolerates: number;
  /** Times the leader became another member (a sample without a leader is not a change). */
  leaderChanges: number;
  leaders: string[];
}

/** Failures a sample says the cluster survives: healthy voters beyond the quorum. */
export function toleratesAt(sample: ToleranceSample): number | undefined {
  return sample.voters === undefined ? undefined : sample.healthyVoters - quorumOf(sample.voters);
}

export function summarizeTolerance(
  samples: readonly ToleranceSample[],
  resting: number,
): ToleranceSummary {
  let msBelowResting = 0;
  let unanswered = 0;
  let minTolerates = resting;
  const leaders: string[] = [];
  samples.forEach((sample, i) => {
    const tolerates = toleratesAt(sample);
    if (tolerates === undefined) unanswered += 1;
    else minTolerates = Math.min(minTolerates, tolerates);
    const next = samples[i + 1];
    if (next && (tolerates === undefined || tolerates < resting)) {
      msBelowResting += next.at - sample.at;
    }
    if (sample.leader !== undefined && sample.leader !== leaders.at(-1))
      leaders.push(sample.leader);
  });
  return {
    samples: samples.length,
    msBelowResting,
    unanswered,
    minTolerates,
    leaderChanges: Math.max(0, leaders.length - 1),
    leaders,
  };
}
