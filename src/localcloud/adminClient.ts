// A typed client of the local cloud's admin API, for tests, the demo and
// `quorate local status`.
import type {
  AccountSummary,
  ChangeSetFaultRequest,
  FaultList,
  IamPolicyRequest,
  IamReport,
  InstanceFaultAction,
  LocalCloudSnapshot,
  ResourceFaultRequest,
  S3CorruptRequest,
  S3FaultRequest,
  SignalFaultRequest,
  ThrottleRequest,
} from "./adminTypes.js";

export class LocalCloudAdmin {
  /** Without an account: the default account's state and faults. */
  constructor(
    readonly endpoint: string,
    readonly account?: string,
  ) {}

  /** The same admin API for another account's state, faults and instances (?account=ID). */
  forAccount(accountId: string): LocalCloudAdmin {
    return new LocalCloudAdmin(this.endpoint, accountId);
  }

  /** Every account the local cloud holds, and the roles AssumeRole grants. */
  accounts(): Promise<{ accounts: AccountSummary[]; roles: string[] }> {
    return this.call("GET", "/_quorate/accounts");
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const query = this.account ? `?account=${encodeURIComponent(this.account)}` : "";
    const response = await fetch(`${this.endpoint}${path}${query}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : {};
    if (!response.ok) {
      const message = (parsed as { error?: string }).error ?? text;
      throw new Error(`local cloud admin ${method} ${path}: HTTP ${response.status}: ${message}`);
    }
    return parsed as T;
  }

  health(): Promise<{ status: string; endpoint: string; pid: number }> {
    return this.call("GET", "/_quorate/health");
  }

  /** API calls served, by "service:Action" (e.g. "cloudformation:DescribeStacks"). */
  async counters(): Promise<Record<string, number>> {
    return (await this.call<{ counters: Record<string, number> }>("GET", "/_quorate/counters"))
      .counters;
  }

  async resetCounters(): Promise<void> {
    await this.call("POST", "/_quorate/counters/reset");
  }

  /** Evaluates every call against this identity policy from now on (AccessDenied for what it does not allow). */
  async enforceIam(request: IamPolicyRequest): Promise<void> {
    await this.call("PUT", "/_quorate/iam", request);
  }

  /** Whether a policy is enforced, and every distinct request it evaluated with its verdict. */
  iam(): Promise<IamReport> {
    return this.call("GET", "/_quorate/iam");
  }

  /** Every call is allowed again. */
  async stopEnforcingIam(): Promise<void> {
    await this.call("DELETE", "/_quorate/iam");
  }

  state(): Promise<LocalCloudSnapshot> {
    return this.call("GET", "/_quorate/state");
  }

  faults(): Promise<FaultList> {
    return this.call("GET", "/_quorate/faults");
  }

  async clearFaults(): Promise<void> {
    await this.call("DELETE", "/_quorate/faults");
  }

  /** The next `count` calls of service:Action get Throttling ("Rate exceeded"); the SDK retries them. */
  async throttle(request: ThrottleRequest): Promise<void> {
    await this.call("POST", "/_quorate/faults/throttle", request);
  }

  /** Drops or delays resource signals: all of them, or one instance's. */
  async signalFault(request: SignalFaultRequest): Promise<void> {
    await this.call("POST", "/_quorate/faults/signals", request);
  }

  /** Fails a resource operation of a stack (create, update, rollback or delete). */
  async resourceFault(request: ResourceFaultRequest): Promise<void> {
    await this.call("POST", "/_quorate/faults/resources", request);
  }

  /** The next change sets of a stack end FAILED with the given reason. */
  async changeSetFault(request: ChangeSetFaultRequest): Promise<void> {
    await this.call("POST", "/_quorate/faults/change-sets", request);
  }

  /** Fails S3 writes (InternalError), or stores the next matching object cut short (truncate). */
  async s3Fault(request: S3FaultRequest): Promise<void> {
    await this.call("POST", "/_quorate/faults/s3", request);
  }

  /** Flips one byte of a stored object, keeping its size, ETag and metadata. */
  corruptObject(request: S3CorruptRequest): Promise<{ offset: number }> {
    return this.call("POST", "/_quorate/s3/corrupt", request);
  }

  /** kill / pause / resume / restart the instance's etcd; fail marks the instance impaired, recover clears it. */
  async instance(
    instanceId: string,
    action: InstanceFaultAction,
    options: { signal?: NodeJS.Signals } = {},
  ): Promise<void> {
    await this.call("POST", `/_quorate/instances/${instanceId}/${action}`, options);
  }
}
