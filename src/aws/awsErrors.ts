// Classifies SDK failures into quorate's error kinds, with operator words.
import { QuorateError, terminal, transient } from "../errors.js";

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

const THROTTLING = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
]);

/** True for CloudFormation's "Stack with id X does not exist". */
export function isStackMissing(error: unknown): boolean {
  const e = error as SdkError;
  return e?.name === "ValidationError" && /does not exist/.test(e.message ?? "");
}

/** True for a change set that found nothing to change (both of AWS's wordings). */
export function isNoChangeReason(reason: string | undefined): boolean {
  return (
    reason !== undefined &&
    (reason.includes("didn't contain changes") || reason.includes("No updates are to be performed"))
  );
}

/** IAM's refusal, in each service's name for it (EC2 says UnauthorizedOperation). */
const ACCESS_DENIED = new Set(["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"]);

/** True for an AWS error (or a quorate error caused by one) that IAM refused. */
export function isAccessDenied(error: unknown): boolean {
  const e = error as SdkError & { cause?: unknown };
  if (ACCESS_DENIED.has(e?.name ?? "")) return true;
  return e?.cause !== undefined && e.cause !== error && isAccessDenied(e.cause);
}

/** The permission an IAM denial names ("not authorized to perform: X on resource: Y"), if it does. */
export function missingPermission(
  message: string,
): { action: string; resource: string } | undefined {
  const match = /not authorized to perform: ([\w-]+:\w+) on resource: "?([^"\s]+)"?/.exec(message);
  return match ? { action: match[1]!, resource: match[2]! } : undefined;
}

/** What to do about a denial that names its permission: add it to quorate's policy. */
export function permissionHint(message: string): string | undefined {
  const missing = missingPermission(message);
  return (
    missing &&
    `allow ${missing.action} on ${missing.resource} in the policy of quorate's principal (examples/iam/quorate-controller.json lists what quorate needs)`
  );
}

export function classifyAwsError(error: unknown, doing: string, endpoint?: string): QuorateError {
  if (error instanceof QuorateError) return error;
  const e = error as SdkError;
  const name = e?.name ?? "Error";
  const message = e?.message ?? String(error);
  if (THROTTLING.has(name)) {
    return transient(
      `${doing}: AWS throttled the call after retries (${name})`,
      "try again later (quorate run backs off and retries on its own)",
      error,
    );
  }
  const network = e?.code ?? (error as { cause?: { code?: string } })?.cause?.code;
  if (network && /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN/.test(network)) {
    const where = endpoint ? ` at ${endpoint}` : "";
    const hint = endpoint?.includes("127.0.0.1")
      ? "is the local cloud running? start it with `quorate local up`"
      : "check network access to AWS and the endpoint settings";
    return transient(`${doing}: cannot reach AWS${where} (${network})`, hint, error);
  }
  const status = e?.$metadata?.httpStatusCode ?? 0;
  if (status >= 500) {
    return transient(
      `${doing}: AWS answered ${status} ${name}: ${message}`,
      "try again later (quorate run retries on its own)",
      error,
    );
  }
  if (ACCESS_DENIED.has(name)) {
    return terminal(
      `${doing}: ${name}: ${message}`,
      permissionHint(message) ??
        "check the IAM permissions quorate runs with (examples/iam/quorate-controller.json lists what it needs)",
      error,
    );
  }
  if (name === "ExpiredToken" || name === "InvalidClientTokenId") {
    return terminal(
      `${doing}: ${name}: ${message}`,
      "check the AWS credentials and the IAM permissions quorate runs with",
      error,
    );
  }
  return terminal(`${doing}: ${name}: ${message}`, undefined, error);
}
