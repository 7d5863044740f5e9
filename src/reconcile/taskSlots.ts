// The reconciler's background work, one task per cluster at a time: a rollout
// (apply or supervise), an automatic defragmentation or a scheduled snapshot.
// A cluster with a task gets no other, so that no rollout starts under a
// defragmentation or a snapshot, and --concurrency bounds them all together.

export type TaskKind = "rollout" | "defragmentation" | "scheduled snapshot";

export interface TaskSlots {
  readonly limit: number;
  /** Does the cluster have a task running? */
  has(cluster: string): boolean;
  /** How many tasks run now. */
  count(): number;
  full(): boolean;
  /** Runs `task` in the cluster's slot until it settles, and returns it. */
  track(cluster: string, kind: TaskKind, task: Promise<void>): Promise<void>;
  /** Resolves once a slot is free. */
  waitForFree(): Promise<void>;
  /** Resolves once no task runs (tasks started meanwhile included). */
  settle(): Promise<void>;
  clusters(): string[];
  /** "rollout of dev", for the stop's in-flight line. */
  describe(): string[];
}

export function createTaskSlots(limit: number): TaskSlots {
  const running = new Map<string, { kind: TaskKind; task: Promise<void> }>();
  const tasks = () => [...running.values()].map((r) => r.task);
  return {
    limit,
    has: (cluster) => running.has(cluster),
    count: () => running.size,
    full: () => running.size >= limit,
    track(cluster, kind, task) {
      const tracked = task.finally(() => running.delete(cluster));
      running.set(cluster, { kind, task: tracked });
      return tracked;
    },
    async waitForFree() {
      while (running.size >= limit) await Promise.race(tasks());
    },
    async settle() {
      while (running.size > 0) await Promise.all(tasks());
    },
    clusters: () => [...running.keys()],
    describe: () => [...running].map(([cluster, r]) => `${r.kind} of ${cluster}`),
  };
}
