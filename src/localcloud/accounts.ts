// The local cloud's accounts and the sessions STS hands out. The default
// account (000000000000) is the one every key signs into; AssumeRole of a
// role the local cloud was started with (`roles`) returns temporary
// credentials whose access key id stands for the role's account from then
// on. The table is persisted (<dataDir>/accounts.json), so a restarted local
// cloud still knows the keys a running quorate holds, and gives every account
// the same loopback range as before.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ACCOUNT_ID, nameSuffix, sha256Hex } from "./ids.js";
import { AwsError } from "./protocol/awsError.js";

/** Who signed a request, as GetCallerIdentity and error messages name it. */
export interface Caller {
  accountId: string;
  arn: string;
  userId: string;
}

/** The principal of every key AssumeRole did not hand out. */
export const DEFAULT_CALLER: Caller = {
  accountId: ACCOUNT_ID,
  arn: `arn:aws:iam::${ACCOUNT_ID}:user/local`,
  userId: "AIDALOCALQUORATEUSER",
};

export interface SessionRecord {
  accountId: string;
  roleArn: string;
  sessionName: string;
  /** The role's unique id (AROA...), stable per role as IAM's is. */
  roleId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

interface AccountsFile {
  version: 1;
  /** Account id -> its slot: slot n gets the n-th loopback /16 after the default account's. */
  accounts: Record<string, { slot: number }>;
  /** Access key id -> the session it stands for. */
  sessions: Record<string, SessionRecord>;
}

/** A role AssumeRole grants: its ARN, or its ARN and the external id its trust policy asks for. */
export type GrantedRole = string | { roleArn: string; externalId: string };

export interface AssumeRoleRequest {
  roleArn: string;
  sessionName: string;
  durationSeconds?: number;
  externalId?: string;
}

export interface IssuedCredentials {
  accessKeyId: string;
  session: SessionRecord;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/;
/** AssumeRole's limits: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const MIN_DURATION_S = 900;
const MAX_DURATION_S = 43_200;
const DEFAULT_DURATION_S = 3600;
/** Sessions past their expiry are forgotten after this long (a restarted quorate asks anew). */
const FORGET_AFTER_MS = 24 * 3_600_000;

/** The account id and role name of a role ARN, or undefined when it is not one. */
export function parseRoleArn(arn: string): { accountId: string; roleName: string } | undefined {
  const match = ROLE_ARN.exec(arn);
  return match ? { accountId: match[1]!, roleName: match[2]! } : undefined;
}

export class Accounts {
  private file: AccountsFile;
  /** Role ARN -> the external id its trust policy asks for (undefined: none). */
  private readonly roles: ReadonlyMap<string, string | undefined>;

  private constructor(
    private readonly path: string,
    roles: readonly GrantedRole[],
    private readonly clock: () => number,
  ) {
    const granted = new Map<string, string | undefined>();
    for (const role of roles) {
      const roleArn = typeof role === "string" ? role : role.roleArn;
      if (!parseRoleArn(roleArn))
        throw new Error(
          `roles must be IAM role ARNs such as arn:aws:iam::111111111111:role/quorate (got ${roleArn})`,
        );
      granted.set(roleArn, typeof role === "string" ? undefined : role.externalId);
    }
    this.roles = granted;
    this.file = existsSync(path)
      ? (JSON.parse(readFileSync(path, "utf8")) as AccountsFile)
      : { version: 1, accounts: {}, sessions: {} };
  }

  /** Loads the table at `path` (or starts an empty one); `roles` are the roles AssumeRole grants. */
  static open(
    path: string,
    roles: readonly GrantedRole[],
    clock: () => number = Date.now,
  ): Accounts {
    return new Accounts(path, roles, clock);
  }

  /** Every account other than the default one that has been used, with its slot. */
  known(): { accountId: string; slot: number }[] {
    return Object.entries(this.file.accounts)
      .map(([accountId, { slot }]) => ({ accountId, slot }))
      .sort((a, b) => a.slot - b.slot);
  }

  /** The roles AssumeRole grants. */
  grantable(): string[] {
    return [...this.roles.keys()].sort();
  }

  /** The slot of an account, given on first use and kept: the default account's is 0. */
  slotOf(accountId: string): number {
    if (accountId === ACCOUNT_ID) return 0;
    const existing = this.file.accounts[accountId];
    if (existing) return existing.slot;
    const slot = Math.max(0, ...Object.values(this.file.accounts).map((a) => a.slot)) + 1;
    this.file.accounts[accountId] = { slot };
    this.save();
    return slot;
  }

  /**
   * The principal an access key stands for. A session key past its expiry is
   * refused as AWS refuses it (ExpiredToken); any key AssumeRole did not hand
   * out is the default account's user.
   */
  callerOf(accessKeyId: string): Caller {
    const session = this.file.sessions[accessKeyId];
    if (!session) return DEFAULT_CALLER;
    if (session.expiresAt <= this.clock()) {
      throw new AwsError("ExpiredToken", "The security token included in the request is expired");
    }
    const { roleName } = parseRoleArn(session.roleArn) ?? { roleName: "unknown" };
    return {
      accountId: session.accountId,
      arn: `arn:aws:sts::${session.accountId}:assumed-role/${roleName}/${session.sessionName}`,
      userId: `${session.roleId}:${session.sessionName}`,
    };
  }

  /** AssumeRole: temporary credentials for a granted role, or AWS's AccessDenied. */
  assumeRole(caller: Caller, request: AssumeRoleRequest): IssuedCredentials {
    if (!SESSION_NAME.test(request.sessionName)) {
      throw new AwsError(
        "ValidationError",
        `1 validation error detected: Value '${request.sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
      );
    }
    const duration = request.durationSeconds ?? DEFAULT_DURATION_S;
    if (duration < MIN_DURATION_S || duration > MAX_DURATION_S) {
      throw new AwsError(
        "ValidationError",
        `1 validation error detected: Value '${duration}' at 'durationSeconds' failed to satisfy constraint: Member must have value between ${MIN_DURATION_S} and ${MAX_DURATION_S}`,
      );
    }
    const role = parseRoleArn(request.roleArn);
    // AWS answers a role that does not exist, one whose trust policy does not
    // name the caller, and a wrong or missing sts:ExternalId with the same
    // words, so that none of them can be probed.
    const externalId = this.roles.get(request.roleArn);
    if (
      !role ||
      !this.roles.has(request.roleArn) ||
      (externalId !== undefined && request.externalId !== externalId)
    ) {
      throw new AwsError(
        "AccessDenied",
        `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${request.roleArn}`,
        403,
      );
    }
    this.slotOf(role.accountId);
    const now = this.clock();
    this.forgetExpired(now);
    const accessKeyId = `ASIA${nameSuffix(16)}`;
    const session: SessionRecord = {
      accountId: role.accountId,
      roleArn: request.roleArn,
      sessionName: request.sessionName,
      roleId: roleIdOf(request.roleArn),
      secretAccessKey: nameSuffix(40),
      sessionToken: `FwoGZXIvYXdzE${nameSuffix(120)}`,
      expiresAt: now + duration * 1000,
    };
    this.file.sessions[accessKeyId] = session;
    this.save();
    return { accessKeyId, session };
  }

  private forgetExpired(now: number): void {
    for (const [key, session] of Object.entries(this.file.sessions))
      if (session.expiresAt + FORGET_AFTER_MS < now) delete this.file.sessions[key];
  }

  /** Written before AssumeRole answers, so that no key a client holds is unknown after a crash. */
  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.file, null, 2)}\n`);
    renameSync(tmp, this.path);
  }
}

/** IAM's unique id of a role: AROA and 17 characters, the same for the same ARN. */
function roleIdOf(roleArn: string): string {
  return `AROA${sha256Hex(roleArn).slice(0, 17).toUpperCase()}`;
}
