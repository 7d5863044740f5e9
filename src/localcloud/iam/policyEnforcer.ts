// The local cloud's IAM: every call is evaluated against one identity policy
// (`quorate local up --iam-policy FILE`) by @cloud-copilot/iam-simulate, a
// maintained implementation of IAM's evaluation logic, rather than by rules
// written here. That library is AGPL-3.0-or-later while quorate is Apache-2.0,
// so it is a dev dependency, loaded only when a policy is given: the
// production image (`npm ci --omit=dev`) never contains it (docs/references.md).
import { readFileSync } from "node:fs";
import type { AuthorizationRequest } from "./requestAuthorization.js";

export interface Denial {
  principal: string;
  action: string;
  resource: string;
  /** Denied by a Deny statement, not only for want of an Allow. */
  explicit: boolean;
}

type Simulator = typeof import("@cloud-copilot/iam-simulate");

/** IAM's words for a denial, as the SDK's error message carries them. */
export function denialMessage(denial: Denial): string {
  const why = denial.explicit
    ? "with an explicit deny in an identity-based policy"
    : `because no identity-based policy allows the ${denial.action} action`;
  return `User: ${denial.principal} is not authorized to perform: ${denial.action} on resource: ${denial.resource} ${why}`;
}

async function loadSimulator(): Promise<Simulator> {
  try {
    return await import("@cloud-copilot/iam-simulate");
  } catch (error) {
    throw new Error(
      `--iam-policy needs @cloud-copilot/iam-simulate, a dev dependency that production installs leave out: run \`npm ci\` with dev dependencies (${(error as Error).message})`,
    );
  }
}

/** Reads and checks a policy document; the error names the file and what is wrong. */
export function readPolicyFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read the IAM policy ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`the IAM policy ${path} is not JSON: ${(error as Error).message}`);
  }
}

export class PolicyEnforcer {
  private readonly verdicts = new Map<string, Denial | null>();
  private readonly pending = new Map<string, Promise<Denial | null>>();

  private readonly principalContext: Record<string, string>;

  private constructor(
    private readonly simulator: Simulator,
    private readonly policy: unknown,
    principalTags: Record<string, string>,
  ) {
    this.principalContext = Object.fromEntries(
      Object.entries(principalTags).map(([key, value]) => [`aws:PrincipalTag/${key}`, value]),
    );
  }

  /** Rejects a document IAM would refuse, naming the problem; source names the document. */
  static async create(
    policy: unknown,
    source = "the IAM policy",
    principalTags: Record<string, string> = {},
  ): Promise<PolicyEnforcer> {
    const enforcer = new PolicyEnforcer(await loadSimulator(), policy, principalTags);
    const probe = await enforcer.run("arn:aws:iam::000000000000:user/check", {
      action: "sts:GetCallerIdentity",
      resource: "*",
      context: {},
    });
    if (probe.resultType === "error") {
      const found = probe.errors.identityPolicyErrors?.quorate ?? [];
      const why =
        found.length > 0
          ? found.map((e) => `${e.path}: ${e.message}`).join("; ")
          : probe.errors.message;
      throw new Error(`${source} is not a valid IAM policy: ${why}`);
    }
    return enforcer;
  }

  /** Every distinct request evaluated so far and whether it was allowed: what a story needed. */
  evaluated(): { principal: string; request: AuthorizationRequest; allowed: boolean }[] {
    return [...this.verdicts].map(([key, denial]) => {
      const [principal, action, resource, context] = JSON.parse(key);
      return { principal, request: { action, resource, context }, allowed: denial === null };
    });
  }

  /** The first of the requests that the policy denies, or undefined when it allows them all. */
  async evaluate(principal: string, requests: AuthorizationRequest[]): Promise<Denial | undefined> {
    for (const request of requests) {
      const denial = await this.verdict(principal, request);
      if (denial) return denial;
    }
    return undefined;
  }

  /**
   * For callers that cannot wait (the stack engine's passes): the verdict if it
   * is known, "pending" while it is being worked out (onSettled runs once it is).
   */
  check(
    principal: string,
    requests: AuthorizationRequest[],
    onSettled: () => void,
  ): Denial | undefined | "pending" {
    let waiting = false;
    for (const request of requests) {
      const key = cacheKey(principal, request);
      if (!this.verdicts.has(key)) {
        waiting = true;
        this.verdict(principal, request).then(onSettled, onSettled);
        continue;
      }
      const denial = this.verdicts.get(key);
      if (denial) return denial;
    }
    return waiting ? "pending" : undefined;
  }

  private verdict(principal: string, request: AuthorizationRequest): Promise<Denial | null> {
    const key = cacheKey(principal, request);
    if (this.verdicts.has(key)) return Promise.resolve(this.verdicts.get(key) ?? null);
    let running = this.pending.get(key);
    if (!running) {
      running = this.simulate(principal, request).then((result) => {
        const denial =
          result === "Allowed"
            ? null
            : {
                principal,
                action: request.action,
                resource: request.resource,
                explicit: result === "ExplicitlyDenied",
              };
        this.verdicts.set(key, denial);
        this.pending.delete(key);
        return denial;
      });
      this.pending.set(key, running);
    }
    return running;
  }

  private async simulate(principal: string, request: AuthorizationRequest): Promise<string> {
    const result = await this.run(principal, request);
    return result.resultType === "error" ? "invalid" : result.overallResult;
  }

  private run(principal: string, request: AuthorizationRequest) {
    return this.simulator.runSimulation(
      {
        request: {
          principal,
          action: request.action,
          // Evaluated as within the caller's account: only its identity policy decides. A
          // role's trust policy (the other half of a cross-account call) is the local
          // cloud's list of roles, which its STS checks itself.
          resource: { resource: request.resource, accountId: accountOf(principal) },
          contextVariables: { ...this.principalContext, ...request.context },
        },
        identityPolicies: [{ name: "quorate", policy: this.policy }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(request.action.startsWith("kms:")
          ? { resourcePolicy: defaultKeyPolicy(accountOf(request.resource)) }
          : {}),
      },
      {},
    );
  }
}

/**
 * A KMS key is used only as its key policy allows, whatever the identity policy
 * says. The local cloud has no KMS: every key has the default key policy, which
 * hands the decision to the account's IAM policies (docs/references.md#sse-kms-backups-s3-calls-kms-as-the-caller).
 */
function defaultKeyPolicy(account: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "Enable IAM User Permissions",
        Effect: "Allow",
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ],
  };
}

/** The account field of an ARN: empty for S3's and for "*". */
function accountOf(arn: string): string {
  return arn.split(":")[4] ?? "";
}

function cacheKey(principal: string, request: AuthorizationRequest): string {
  return JSON.stringify([principal, request.action, request.resource, request.context]);
}
