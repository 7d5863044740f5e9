// What every part of the local cloud works on: the state, the instance
// runtime, the clock and the settings. The driver (driver.ts) advances it;
// API handlers read and change it and then kick the driver.

import type { Faults } from "./faults.js";
import type { PolicyEnforcer } from "./iam/policyEnforcer.js";
import { ACCOUNT_ID } from "./ids.js";
import type { InstanceRuntime } from "./instances/index.js";
import type { Store } from "./state/store.js";

export interface WorldSettings {
  /** Multiplies every AWS-side duration (PauseTime, CreationPolicy Timeout, HeartbeatTimeout). */
  timeScale: number;
  /** How long each resource operation takes, so that IN_PROGRESS statuses can be seen. */
  operationDelayMs: number;
  /** First instance address: instances get the addresses after it (127.x.y.z). */
  network: string;
  /** Page sizes of the paginated APIs. */
  pageSize: {
    stacks: number;
    events: number;
    groups: number;
    changeSets: number;
    /** ListStackResources. */
    resources: number;
  };
}

export type LogEvent = Record<string, unknown> & { event: string };

/** What one advance of a stack, change set or group did: moved on, and when to look again. */
export interface Progress {
  progressed: boolean;
  wakeAt?: number;
}

/** The policy the local cloud enforces, if any: shared by the worlds of all accounts. */
export interface IamSwitch {
  enforcer?: PolicyEnforcer;
}

export class World {
  /** Set by the driver: schedules a pass soon. */
  kick: () => void = () => {};
  /** One switch for every account's world: a policy is the local cloud's, not one account's. */
  private iamSwitch: IamSwitch = {};

  /**
   * With --iam-policy: the policy every call, and everything CloudFormation
   * provisions for a stack operation, is evaluated against. The admin API can
   * replace or remove it while the local cloud runs.
   */
  get iam(): PolicyEnforcer | undefined {
    return this.iamSwitch.enforcer;
  }

  set iam(enforcer: PolicyEnforcer | undefined) {
    if (enforcer) this.iamSwitch.enforcer = enforcer;
    else delete this.iamSwitch.enforcer;
  }

  /** Makes this world read and set the same policy as the others. */
  shareIam(iamSwitch: IamSwitch): void {
    this.iamSwitch = iamSwitch;
  }
  /**
   * The principal of the call being served, while its (synchronous) handler
   * runs, so that a stack operation it starts records whose permissions it uses.
   */
  caller?: string;

  constructor(
    readonly store: Store,
    readonly settings: WorldSettings,
    readonly faults: Faults,
    readonly log: (event: LogEvent) => void,
    readonly clock: () => number = Date.now,
    /** The AWS account this world is: every ARN and OwnerId it hands out carries it. */
    readonly accountId: string = ACCOUNT_ID,
  ) {}

  private runtimeRef: InstanceRuntime | undefined;

  get runtime(): InstanceRuntime {
    if (!this.runtimeRef) throw new Error("the instance runtime is not attached yet");
    return this.runtimeRef;
  }

  attachRuntime(runtime: InstanceRuntime): void {
    this.runtimeRef = runtime;
  }

  now(): number {
    return this.clock();
  }

  /** An AWS-side duration in milliseconds on the local cloud's clock. */
  scaled(ms: number): number {
    return ms * this.settings.timeScale;
  }
}
