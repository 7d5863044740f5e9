// One AWS service of the local cloud: its query dialect and the handlers of
// the actions it serves. A handler takes the SDK's input shape and returns the
// SDK's output shape; the schemas the SDK exports turn both into wire format.
import { AwsError } from "./awsError.js";
import { parseForm, readQueryInput, writeXmlMembers } from "./querySerde.js";
import { type Envelope, errorXml, resultXml } from "./responses.js";

export interface CallContext {
  region: string;
  requestId: string;
  /** From the SigV4 credential scope: STS answers by who signed. */
  accessKeyId?: string;
}

export type Handler<I, O> = (input: I, call: CallContext) => O;

/** Action name -> handler. `never` input lets handlers declare their own input types. */
export type HandlerTable = Record<string, Handler<never, unknown>>;

export interface ServiceDefinition {
  /** The SigV4 signing name: cloudformation, autoscaling, ec2. */
  service: string;
  envelope: Envelope;
  /** The SDK module, whose `<Action>$` exports are the operation schemas. */
  sdk: Record<string, unknown>;
  handlers: HandlerTable;
}

export interface WireResponse {
  status: number;
  body: string;
}

/** The action of a form body, or undefined. */
export function actionOf(body: string): string | undefined {
  return parseForm(body).get("Action");
}

export function serve(
  definition: ServiceDefinition,
  body: string,
  call: CallContext,
): WireResponse {
  const params = parseForm(body);
  const action = params.get("Action") ?? "";
  try {
    const handler = definition.handlers[action] as Handler<unknown, unknown> | undefined;
    const schema = definition.sdk[`${action}$`] as unknown[] | undefined;
    if (!handler || !Array.isArray(schema)) {
      throw new AwsError(
        "InvalidAction",
        `The action ${action || "(none)"} is not valid for this web service: the quorate local cloud does not implement ${definition.service}:${action}`,
      );
    }
    // An operation schema is [9, namespace, name, traits, input, output].
    const input = readQueryInput(schema[4] as never, params, { ec2: definition.envelope.ec2 });
    const output = handler(input, call);
    const members = writeXmlMembers(schema[5] as never, output);
    return { status: 200, body: resultXml(definition.envelope, action, members, call.requestId) };
  } catch (error) {
    return errorResponse(definition.envelope, error, call.requestId);
  }
}

export function errorResponse(envelope: Envelope, error: unknown, requestId: string): WireResponse {
  const aws =
    error instanceof AwsError
      ? error
      : new AwsError(
          "InternalFailure",
          `The local cloud failed to serve the request: ${(error as Error)?.message ?? String(error)}`,
          500,
          "Receiver",
        );
  return { status: aws.status, body: errorXml(envelope, aws, requestId) };
}
