// Where the local cloud asks its policy: before serving a query call or an S3
// request, and before CloudFormation provisions a resource as the principal
// that started the stack operation. Denials come back in each service's shape
// (AccessDenied; EC2's UnauthorizedOperation) with IAM's message.
import { ACCOUNT_ID, uuid } from "../ids.js";
import { AwsError } from "../protocol/awsError.js";
import { parseForm } from "../protocol/querySerde.js";
import type { World } from "../world.js";
import { type Denial, denialMessage, type PolicyEnforcer } from "./policyEnforcer.js";
import {
  type ProvisionedResource,
  provisioningAuthorization,
} from "./provisioningAuthorization.js";
import {
  queryAuthorization,
  type ResourceLookup,
  type S3Request,
  s3Authorization,
  s3KmsAuthorization,
} from "./requestAuthorization.js";

export interface AuthorizeCall {
  world: World;
  service: string;
  action: string;
  /** The form body of a query call. */
  params: string;
  region: string;
  /** The caller's ARN: a user of the default account, or an assumed-role session. */
  principal: string;
}

/** The live resources of a world, as IAM's requests name them. */
export function worldLookup(world: World, region: string): ResourceLookup {
  const account = world.accountId;
  const groupTagged = (name: string) => {
    const group = world.store.groups.get(name);
    return (
      group && { arn: group.arn, tags: group.tags.map((t) => ({ key: t.Key, value: t.Value })) }
    );
  };
  return {
    account,
    region,
    stack(nameOrArn) {
      for (const stack of world.store.stacks.values()) {
        if (stack.region !== region || stack.status === "DELETE_COMPLETE") continue;
        if (stack.stackName === nameOrArn || stack.stackId === nameOrArn)
          return {
            arn: stack.stackId,
            tags: stack.tags.map((t) => ({ key: t.Key, value: t.Value })),
          };
      }
      return undefined;
    },
    group: groupTagged,
    groupOfInstance(instanceId) {
      const name = world.store.instances.get(instanceId)?.groupName;
      return name ? groupTagged(name) : undefined;
    },
    instance(instanceId) {
      const instance = world.store.instances.get(instanceId);
      return (
        instance && {
          arn: `arn:aws:ec2:${region}:${account}:instance/${instanceId}`,
          tags: instance.tags.map((t) => ({ key: t.Key, value: t.Value })),
        }
      );
    },
  };
}

function deniedError(service: string, denial: Denial): AwsError {
  if (service === "ec2") {
    // EC2 also appends an encoded authorization message that `sts decode-authorization-message` reads; the local cloud's is the plain one.
    return new AwsError(
      "UnauthorizedOperation",
      `You are not authorized to perform this operation. ${denialMessage(denial)}.`,
      403,
    );
  }
  return new AwsError("AccessDenied", denialMessage(denial), 403);
}

/** The error a denied query call gets, or undefined when the policy allows it. */
export async function authorizeQueryCall(
  enforcer: PolicyEnforcer,
  call: AuthorizeCall,
): Promise<AwsError | undefined> {
  const requests = queryAuthorization(
    call.service,
    call.action,
    parseForm(call.params),
    worldLookup(call.world, call.region),
  );
  const denial = await enforcer.evaluate(call.principal, requests);
  return denial && deniedError(call.service, denial);
}

/**
 * The error a denied S3 request gets, or undefined: S3's own action, and with
 * SSE-KMS the KMS action S3 asks for as the caller, in the caller's account.
 */
export async function authorizeS3Request(
  enforcer: PolicyEnforcer,
  principal: string,
  region: string,
  request: S3Request,
): Promise<AwsError | undefined> {
  const account = /^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1] ?? ACCOUNT_ID;
  const kms = request.kms && s3KmsAuthorization(request.kms, region, account);
  const denial = await enforcer.evaluate(principal, [
    s3Authorization(request),
    ...(kms ? [kms] : []),
  ]);
  if (!denial) return undefined;
  // S3 quotes its own resource ARNs; KMS's denial comes through as KMS words it.
  const resource = denial.action.startsWith("s3:") ? `"${denial.resource}"` : denial.resource;
  return new AwsError("AccessDenied", denialMessage({ ...denial, resource }), 403);
}

/**
 * What the stack engine asks before provisioning a resource for a stack
 * operation's principal: a CloudFormation failure reason when denied, "pending"
 * while it is being evaluated (the world is kicked once it is), undefined when allowed.
 */
export function checkProvisioning(
  enforcer: PolicyEnforcer,
  world: World,
  principal: string,
  resource: ProvisionedResource,
): string | "pending" | undefined {
  const verdict = enforcer.check(principal, provisioningAuthorization(resource), () =>
    world.kick(),
  );
  if (verdict === undefined || verdict === "pending") return verdict;
  const service = verdict.action.split(":")[0] ?? "";
  const serviceName = { iam: "Iam", ec2: "Ec2", autoscaling: "AutoScaling" }[service] ?? service;
  // CloudFormation's words when a resource handler is refused by IAM.
  return `Resource handler returned message: "${denialMessage(verdict)} (Service: ${serviceName}, Status Code: 403, Request ID: ${uuid()})" (HandlerErrorCode: AccessDenied)`;
}
