// Fault injection for tests and demos, set through the admin API: throttled
// API calls, dropped or delayed resource signals, failing resource operations,
// failing or truncated S3 uploads.
// (Instance faults act at once through the runtime; see admin.ts.) Faults live
// in memory only: a restarted local cloud starts without any.

export type ResourcePhase = "create" | "update" | "rollback" | "delete";

export interface ThrottleFault {
  /** cloudformation, autoscaling or ec2. */
  service: string;
  action: string;
  /** How many more calls get Throttling. */
  remaining: number;
}

export interface SignalFault {
  mode: "drop" | "delay";
  /** Only this instance's signals; all when absent. */
  instanceId?: string;
  delayMs?: number;
  /** How many more signals it applies to; unlimited when absent. */
  remaining?: number;
}

export interface ResourceFault {
  stackName: string;
  logicalId: string;
  phase: ResourcePhase;
  /** How many more operations fail; unlimited when absent. */
  remaining?: number;
  message?: string;
}

/**
 * The next change sets of a stack end FAILED with this reason, as AWS fails
 * one it cannot build (a template error found late, an early-validation check).
 */
export interface ChangeSetFault {
  stackName: string;
  reason: string;
  /** How many more change sets fail; unlimited when absent. */
  remaining?: number;
}

/** S3 writes of matching objects: PutObject, CreateMultipartUpload, UploadPart, CompleteMultipartUpload. */
export interface S3Fault {
  /**
   * fail: the write gets InternalError (500), as a failing S3 would answer.
   * truncate: the write succeeds, but only the first `bytes` of the object
   * are stored (an upload cut short without an error).
   */
  mode: "fail" | "truncate";
  bucket?: string;
  /** Only keys under this prefix; every key when absent. */
  keyPrefix?: string;
  /** truncate: how many bytes survive; half of the object when absent. */
  bytes?: number;
  /** How many more writes (fail) or objects (truncate) it applies to; unlimited when absent. */
  remaining?: number;
}

export interface DelayedSignal {
  instanceId: string;
  status: "SUCCESS" | "FAILURE";
  reason: string;
  at: number;
}

export interface FaultList {
  throttles: ThrottleFault[];
  signals: SignalFault[];
  resources: ResourceFault[];
  changeSets: ChangeSetFault[];
  s3: S3Fault[];
  delayedSignals: DelayedSignal[];
}

export class Faults {
  throttles: ThrottleFault[] = [];
  signals: SignalFault[] = [];
  resources: ResourceFault[] = [];
  changeSets: ChangeSetFault[] = [];
  s3: S3Fault[] = [];
  delayed: DelayedSignal[] = [];

  /** True when this call is to be throttled (and counts it against the fault). */
  takeThrottle(service: string, action: string): boolean {
    const fault = this.throttles.find(
      (f) => f.service === service && f.action === action && f.remaining > 0,
    );
    if (!fault) return false;
    fault.remaining--;
    this.throttles = this.throttles.filter((f) => f.remaining > 0);
    return true;
  }

  /** The signal fault that applies to an instance's next signal, counted as used. */
  takeSignalFault(instanceId: string): SignalFault | undefined {
    const fault = this.signals.find(
      (f) => f.instanceId === undefined || f.instanceId === instanceId,
    );
    if (!fault) return undefined;
    if (fault.remaining !== undefined) {
      fault.remaining--;
      if (fault.remaining <= 0) this.signals = this.signals.filter((f) => f !== fault);
    }
    return fault;
  }

  takeResourceFault(
    stackName: string,
    logicalId: string,
    phase: ResourcePhase,
  ): ResourceFault | undefined {
    const fault = this.resources.find(
      (f) => f.stackName === stackName && f.logicalId === logicalId && f.phase === phase,
    );
    if (!fault) return undefined;
    if (fault.remaining !== undefined) {
      fault.remaining--;
      if (fault.remaining <= 0) this.resources = this.resources.filter((f) => f !== fault);
    }
    return fault;
  }

  /** The change-set fault of a stack, counted as used. */
  takeChangeSetFault(stackName: string): ChangeSetFault | undefined {
    const fault = this.changeSets.find((f) => f.stackName === stackName);
    if (!fault) return undefined;
    if (fault.remaining !== undefined) {
      fault.remaining--;
      if (fault.remaining <= 0) this.changeSets = this.changeSets.filter((f) => f !== fault);
    }
    return fault;
  }

  /** The S3 fault of this mode that applies to a write of bucket/key, counted as used. */
  takeS3Fault(mode: S3Fault["mode"], bucket: string, key: string): S3Fault | undefined {
    const fault = this.s3.find(
      (f) =>
        f.mode === mode &&
        (f.bucket === undefined || f.bucket === bucket) &&
        key.startsWith(f.keyPrefix ?? ""),
    );
    if (!fault) return undefined;
    if (fault.remaining !== undefined) {
      fault.remaining--;
      if (fault.remaining <= 0) this.s3 = this.s3.filter((f) => f !== fault);
    }
    return fault;
  }

  /** Delayed signals that are due, removed from the list. */
  dueSignals(now: number): DelayedSignal[] {
    const due = this.delayed.filter((d) => d.at <= now);
    this.delayed = this.delayed.filter((d) => d.at > now);
    return due;
  }

  nextDelayedSignal(): number | undefined {
    return this.delayed.length ? Math.min(...this.delayed.map((d) => d.at)) : undefined;
  }

  list(): FaultList {
    return structuredClone({
      throttles: this.throttles,
      signals: this.signals,
      resources: this.resources,
      changeSets: this.changeSets,
      s3: this.s3,
      delayedSignals: this.delayed,
    });
  }

  clear(): void {
    this.throttles = [];
    this.signals = [];
    this.resources = [];
    this.changeSets = [];
    this.s3 = [];
    this.delayed = [];
  }
}
