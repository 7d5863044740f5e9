// The wire format, checked against what AWS sends (the API references'
// example responses): awsQuery lists in <member>, EC2's in <item> with
// lowerCamel names, and the two error envelopes.
import { CreateChangeSet$, DescribeStacks$ } from "@aws-sdk/client-cloudformation";
import { DescribeInstances$ } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { AwsError } from "../../src/localcloud/protocol/awsError.js";
import {
  parseForm,
  readQueryInput,
  writeXmlMembers,
} from "../../src/localcloud/protocol/querySerde.js";
import { errorXml, resultXml } from "../../src/localcloud/protocol/responses.js";

const input = (op: unknown) => (op as unknown[])[4] as never;
const output = (op: unknown) => (op as unknown[])[5] as never;

describe("writeXmlMembers", () => {
  it("awsQuery: members by name, lists in <member>, timestamps in ISO 8601", () => {
    const xml = writeXmlMembers(output(DescribeStacks$), {
      Stacks: [
        {
          StackName: "quorate-dev",
          StackStatus: "CREATE_COMPLETE",
          CreationTime: new Date("2026-01-01T00:00:00Z"),
          Tags: [{ Key: "a", Value: "<b>" }],
          EnableTerminationProtection: false,
        },
      ],
    });
    expect(xml).toBe(
      "<Stacks><member><StackName>quorate-dev</StackName><CreationTime>2026-01-01T00:00:00.000Z</CreationTime>" +
        "<StackStatus>CREATE_COMPLETE</StackStatus><Tags><member><Key>a</Key><Value>&lt;b&gt;</Value></member></Tags>" +
        "<EnableTerminationProtection>false</EnableTerminationProtection></member></Stacks>",
    );
  });

  it("ec2Query: lowerCamel names and <item> lists (members in the model's order)", () => {
    const xml = writeXmlMembers(output(DescribeInstances$), {
      Reservations: [
        {
          ReservationId: "r-1",
          Instances: [
            {
              InstanceId: "i-1",
              State: { Code: 16, Name: "running" },
              PrivateIpAddress: "127.0.1.1",
              Tags: [{ Key: "k", Value: "v" }],
            },
          ],
        },
      ],
    });
    expect(xml).toBe(
      "<reservationSet><item><reservationId>r-1</reservationId><instancesSet><item>" +
        "<tagSet><item><key>k</key><value>v</value></item></tagSet><instanceId>i-1</instanceId>" +
        "<instanceState><code>16</code><name>running</name></instanceState><privateIpAddress>127.0.1.1</privateIpAddress>" +
        "</item></instancesSet></item></reservationSet>",
    );
  });
});

describe("readQueryInput", () => {
  it("awsQuery: lists as <Name>.member.<n>, structures as <Name>.<Member>", () => {
    const form = parseForm(
      "Action=CreateChangeSet&Version=2010-05-15&StackName=s&ChangeSetName=c&ChangeSetType=CREATE" +
        "&Capabilities.member.1=CAPABILITY_IAM&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=b&Tags.member.2.Value=2" +
        "&Parameters=",
    );
    expect(readQueryInput(input(CreateChangeSet$), form, { ec2: false })).toEqual({
      StackName: "s",
      ChangeSetName: "c",
      ChangeSetType: "CREATE",
      Capabilities: ["CAPABILITY_IAM"],
      Tags: [
        { Key: "a", Value: "1" },
        { Key: "b", Value: "2" },
      ],
      Parameters: [],
    });
  });

  it("ec2Query: flattened lists under their EC2 query names", () => {
    const form = parseForm(
      "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1&InstanceId.2=i-2" +
        "&Filter.1.Name=tag%3Aquorate.dev%3Acluster&Filter.1.Value.1=dev&Filter.1.Value.2=prod&MaxResults=5",
    );
    expect(readQueryInput(input(DescribeInstances$), form, { ec2: true })).toEqual({
      InstanceIds: ["i-1", "i-2"],
      Filters: [{ Name: "tag:quorate.dev:cluster", Values: ["dev", "prod"] }],
      MaxResults: 5,
    });
  });
});

describe("envelopes", () => {
  it("awsQuery wraps the result beside ResponseMetadata", () => {
    expect(
      resultXml({ ec2: false, xmlNamespace: "ns" }, "DescribeStacks", "<Stacks/>", "id-1"),
    ).toBe(
      '<DescribeStacksResponse xmlns="ns"><DescribeStacksResult><Stacks/></DescribeStacksResult><ResponseMetadata><RequestId>id-1</RequestId></ResponseMetadata></DescribeStacksResponse>',
    );
  });

  it("errors: ErrorResponse for awsQuery, Response/Errors for EC2", () => {
    const error = new AwsError("ValidationError", "Stack with id x does not exist");
    expect(errorXml({ ec2: false, xmlNamespace: "ns" }, error, "id-1")).toBe(
      '<ErrorResponse xmlns="ns"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id x does not exist</Message></Error><RequestId>id-1</RequestId></ErrorResponse>',
    );
    expect(
      errorXml(
        { ec2: true, xmlNamespace: "ns" },
        new AwsError("InvalidInstanceID.NotFound", "gone"),
        "id-2",
      ),
    ).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>gone</Message></Error></Errors><RequestID>id-2</RequestID></Response>',
    );
  });
});
