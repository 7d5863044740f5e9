// Which service and region a request is for, read from its SigV4 credential
// scope (<key>/<date>/<region>/<service>/aws4_request), as AWS routes them.
// The signature itself is not checked: the local cloud accepts any keys.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
import { AwsError } from "./awsError.js";

export interface CredentialScope {
  accessKeyId: string;
  region: string;
  service: string;
}

const SCOPE = /Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

/** The scope from an Authorization header or a presigned X-Amz-Credential parameter. */
export function credentialScope(
  authorization: string | undefined,
  presignedCredential?: string,
): CredentialScope {
  const text = authorization ?? (presignedCredential ? `Credential=${presignedCredential}` : "");
  const match = SCOPE.exec(text);
  if (!match) {
    throw new AwsError(
      "MissingAuthenticationToken",
      "Request is missing Authentication Token: sign it with SigV4 (any access key works against the local cloud)",
      403,
    );
  }
  const [, accessKeyId = "", , region = "", service = ""] = match;
  return { accessKeyId, region, service };
}
