// Identifiers in the formats AWS uses, so that clients that validate them
// (and people reading them) see what they would see on AWS.
import { createHash, randomBytes, randomUUID } from "node:crypto";

/**
 * The local cloud's default account: requests signed with any key that
 * AssumeRole did not hand out are served in it (accounts.ts).
 */
export const ACCOUNT_ID = "000000000000";

/** i-, sg-, lt-, r-... followed by 17 hex digits, like current EC2 ids. */
export function ec2Id(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString("hex").slice(0, 17)}`;
}

export function uuid(): string {
  return randomUUID();
}

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** The random suffix CloudFormation appends to generated names (stack-Logical-ABC123DEF456). */
export function nameSuffix(length = 12): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += UPPER[b % UPPER.length];
  return out;
}

/** A name CloudFormation generates for a resource without an explicit one. */
export function generatedName(stackName: string, logicalId: string, maxLength = 128): string {
  const suffix = nameSuffix(12);
  const head = `${stackName}-${logicalId}`.slice(0, Math.max(1, maxLength - suffix.length - 1));
  return `${head}-${suffix}`;
}

export function stackArn(accountId: string, region: string, stackName: string): string {
  return `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/${uuid()}`;
}

export function changeSetArn(accountId: string, region: string, name: string): string {
  return `arn:aws:cloudformation:${region}:${accountId}:changeSet/${name}/${uuid()}`;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
