// What quorate says when IAM refuses a call: AWS's error as it came, and the
// permission to add, read from IAM's sentence. The messages are the ones the
// local cloud answers with (test/localcloud/iamIsolation.test.ts shows them
// coming back through the SDK).
import { describe, expect, it } from "vitest";
import { classifyAwsError, isAccessDenied, missingPermission } from "../../src/aws/awsErrors.js";
import { QuorateError } from "../../src/errors.js";

const sdkError = (name: string, message: string, status = 403) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

const DENIED =
  "User: arn:aws:iam::000000000000:user/local is not authorized to perform: cloudformation:ExecuteChangeSet on resource: arn:aws:cloudformation:eu-west-1:000000000000:stack/quorate-dev/0b5b because no identity-based policy allows the cloudformation:ExecuteChangeSet action";

describe("an AccessDenied from AWS", () => {
  it.each([
    [
      "AccessDenied",
      DENIED,
      "cloudformation:ExecuteChangeSet",
      "arn:aws:cloudformation:eu-west-1:000000000000:stack/quorate-dev/0b5b",
    ],
    [
      "UnauthorizedOperation",
      "You are not authorized to perform this operation. User: arn:aws:iam::1:user/q is not authorized to perform: ec2:CreateTags on resource: arn:aws:ec2:eu-west-1:1:instance/i-0abc because no identity-based policy allows the ec2:CreateTags action.",
      "ec2:CreateTags",
      "arn:aws:ec2:eu-west-1:1:instance/i-0abc",
    ],
    [
      "AccessDenied",
      'User: arn:aws:iam::1:user/q is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::snaps/dev/1.db" because no identity-based policy allows the s3:PutObject action',
      "s3:PutObject",
      "arn:aws:s3:::snaps/dev/1.db",
    ],
  ])("%s: a terminal error naming the permission to add", (name, message, action, resource) => {
    expect(missingPermission(message)).toEqual({ action, resource });
    const error = classifyAwsError(sdkError(name, message), "executing change set");
    expect(error.kind).toBe("terminal");
    expect(error.message).toBe(`executing change set: ${name}: ${message}`);
    expect(error.hint).toBe(
      `allow ${action} on ${resource} in the policy of quorate's principal (examples/iam/quorate-controller.json lists what quorate needs)`,
    );
    expect(isAccessDenied(error)).toBe(true);
  });

  it("without IAM's sentence, points at the policy in general", () => {
    const error = classifyAwsError(
      sdkError("AccessDenied", "Access Denied"),
      "reading s3://snaps/",
    );
    expect(missingPermission("Access Denied")).toBeUndefined();
    expect(error.hint).toMatch(/^check the IAM permissions quorate runs with/);
  });

  it("is told apart from other refusals", () => {
    expect(isAccessDenied(sdkError("ValidationError", "Stack with id x does not exist", 400))).toBe(
      false,
    );
    expect(isAccessDenied(new QuorateError("terminal", "x"))).toBe(false);
    expect(
      classifyAwsError(
        sdkError("ExpiredToken", "The security token included in the request is expired"),
        "x",
      ).hint,
    ).toBe("check the AWS credentials and the IAM permissions quorate runs with");
  });
});
