// The STS actions the local cloud serves: AssumeRole (how quorate reaches a
// cluster's account) and GetCallerIdentity (who a key is). The sessions and
// which roles may be assumed live in accounts.ts.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_Operations.html
import type {
  AssumeRoleRequest,
  AssumeRoleResponse,
  GetCallerIdentityResponse,
} from "@aws-sdk/client-sts";
import * as sdk from "@aws-sdk/client-sts";
import type { Accounts } from "../accounts.js";
import type { CallContext, ServiceDefinition } from "../protocol/dispatch.js";

/**
 * STS's handlers. `onAccount` is told of the account of every role assumed,
 * before the credentials are returned, so that its world exists when the
 * first call signed with them arrives.
 */
export function stsService(
  accounts: Accounts,
  onAccount: (accountId: string) => void,
): ServiceDefinition {
  return {
    service: "sts",
    envelope: { ec2: false, xmlNamespace: "https://sts.amazonaws.com/doc/2011-06-15/" },
    sdk: sdk as unknown as Record<string, unknown>,
    handlers: {
      AssumeRole: (input: AssumeRoleRequest, call: CallContext): AssumeRoleResponse => {
        const caller = accounts.callerOf(call.accessKeyId ?? "");
        const issued = accounts.assumeRole(caller, {
          roleArn: input.RoleArn ?? "",
          sessionName: input.RoleSessionName ?? "",
          ...(input.DurationSeconds !== undefined
            ? { durationSeconds: input.DurationSeconds }
            : {}),
          ...(input.ExternalId ? { externalId: input.ExternalId } : {}),
        });
        const { session } = issued;
        onAccount(session.accountId);
        const assumed = accounts.callerOf(issued.accessKeyId);
        return {
          Credentials: {
            AccessKeyId: issued.accessKeyId,
            SecretAccessKey: session.secretAccessKey,
            SessionToken: session.sessionToken,
            Expiration: new Date(session.expiresAt),
          },
          AssumedRoleUser: {
            AssumedRoleId: assumed.userId,
            Arn: assumed.arn,
          },
        };
      },
      GetCallerIdentity: (_input: unknown, call: CallContext): GetCallerIdentityResponse => {
        const caller = accounts.callerOf(call.accessKeyId ?? "");
        return { UserId: caller.userId, Account: caller.accountId, Arn: caller.arn };
      },
    },
  };
}
