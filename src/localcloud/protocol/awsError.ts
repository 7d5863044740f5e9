// Errors as the AWS query APIs return them: a code the SDK maps to its
// exception classes, a message in AWS's words, and an HTTP status.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/CommonErrors.html

export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  /** Sender (the request is wrong) or Receiver (the service failed). */
  readonly type: "Sender" | "Receiver";

  constructor(code: string, message: string, status = 400, type: "Sender" | "Receiver" = "Sender") {
    super(message);
    this.name = "AwsError";
    this.code = code;
    this.status = status;
    this.type = type;
  }
}

/** CloudFormation's and Auto Scaling's catch-all for a request that cannot be served. */
export function validationError(message: string): AwsError {
  return new AwsError("ValidationError", message);
}
