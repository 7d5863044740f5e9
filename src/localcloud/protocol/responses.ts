// The envelopes of query-protocol responses and errors, per dialect.
// awsQuery wraps the result in <XResult> beside <ResponseMetadata>; EC2 puts the
// members straight into <XResponse> with a <requestId>; errors differ too:
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
import type { AwsError } from "./awsError.js";
import { escapeXml } from "./querySerde.js";

export interface Envelope {
  ec2: boolean;
  xmlNamespace: string;
}

export function resultXml(
  envelope: Envelope,
  action: string,
  members: string,
  requestId: string,
): string {
  const ns = `xmlns="${envelope.xmlNamespace}"`;
  if (envelope.ec2) {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response ${ns}><requestId>${requestId}</requestId>${members}</${action}Response>`;
  }
  return `<${action}Response ${ns}><${action}Result>${members}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
}

export function errorXml(envelope: Envelope, error: AwsError, requestId: string): string {
  const code = escapeXml(error.code);
  const message = escapeXml(error.message);
  if (envelope.ec2) {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
  }
  return `<ErrorResponse xmlns="${envelope.xmlNamespace}"><Error><Type>${error.type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
