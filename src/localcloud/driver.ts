// Drives the local cloud: a pass advances change sets, stack operations and
// groups until nothing moves, writes the state, and sleeps until the earliest
// deadline (or the next kick from an API call or the runtime). Every timer is
// a deadline in the state, so a restarted local cloud picks up where it was.
import { advanceGroup, groupOfInstance } from "./autoscaling/group.js";
import { advanceStack } from "./cloudformation/engine.js";
import { deliverSignal } from "./cloudformation/signals.js";
import { advanceChangeSets } from "./cloudformation/stackActions.js";
import type { World } from "./world.js";

/** Terminated instances stay visible in DescribeInstances this long (about an hour on AWS). */
const TERMINATED_VISIBLE_MS = 3_600_000;
/** A pass at least this often, whatever the deadlines say. */
const HEARTBEAT_MS = 1_000;

export class Driver {
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private closed = false;

  constructor(private readonly world: World) {
    world.kick = () => this.schedule();
  }

  /** Runs a pass soon (after the current call returns). */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.closed) this.pass();
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** One pass: advance everything until nothing moves, persist, and sleep until the next deadline. */
  pass(): void {
    const world = this.world;
    let wakeAt = world.now() + HEARTBEAT_MS;
    const wake = (at: number | undefined) => {
      if (at !== undefined) wakeAt = Math.min(wakeAt, at);
    };
    for (let round = 0; round < 50; round++) {
      let progressed = false;
      for (const due of world.faults.dueSignals(world.now())) {
        signalFromInstance(world, due.instanceId, due.status);
        progressed = true;
      }
      wake(world.faults.nextDelayedSignal());
      for (const stack of world.store.stacks.values()) {
        try {
          const cs = advanceChangeSets(world, stack);
          progressed ||= cs.progressed;
          wake(cs.wakeAt);
          if (stack.operation && !stack.operation.halted) {
            const p = advanceStack(world, stack);
            progressed ||= p.progressed;
            wake(p.wakeAt);
          }
        } catch (error) {
          world.log({
            event: "engine-error",
            stack: stack.stackName,
            error: (error as Error).stack ?? String(error),
          });
        }
      }
      for (const group of [...world.store.groups.values()]) {
        try {
          const p = advanceGroup(world, group);
          progressed ||= p.progressed;
          wake(p.wakeAt);
        } catch (error) {
          world.log({
            event: "engine-error",
            group: group.name,
            error: (error as Error).stack ?? String(error),
          });
        }
      }
      if (!progressed) break;
    }
    this.pruneTerminated();
    world.store.flush();
    if (this.timer) clearTimeout(this.timer);
    if (!this.closed) {
      this.timer = setTimeout(() => this.pass(), Math.max(0, wakeAt - world.now()));
      this.timer.unref?.();
    }
  }

  private pruneTerminated(): void {
    const world = this.world;
    const cutoff = world.now() - world.scaled(TERMINATED_VISIBLE_MS);
    for (const record of [...world.store.instances.values()]) {
      if (record.state === "terminated" && (record.terminatedAt ?? 0) < cutoff) {
        world.store.instances.delete(record.instanceId);
      }
    }
  }
}

/** A signal from an instance's bootstrap: SignalResource for its group, with UniqueId = instance id. */
export function signalFromInstance(
  world: World,
  instanceId: string,
  status: "SUCCESS" | "FAILURE",
): void {
  const group = groupOfInstance(world, instanceId);
  const stack = group ? world.store.stacks.get(group.owner) : undefined;
  if (!group || !stack) {
    world.log({
      event: "signal-ignored",
      instanceId,
      status,
      why: "the instance belongs to no stack's group",
    });
    return;
  }
  try {
    deliverSignal(world, stack, group.logicalId, instanceId, status);
  } catch (error) {
    // cfn-signal fails the same way on AWS; the bootstrap only logs it.
    world.log({ event: "signal-refused", instanceId, status, error: (error as Error).message });
  }
}
