// SDK clients per region, configured the way every AWS tool is (environment,
// profiles, AWS_ENDPOINT_URL), plus --local for quorate's own local cloud.
// Clients come from src/aws/sdk.ts, whose bundle in dist/ holds only the
// commands quorate sends; each client is made the first time it is used.
// A cluster with spec.account gets clients of its own, signed with the
// credentials of the role quorate assumes for it (STS AssumeRole through the
// SDK's fromTemporaryCredentials): one provider per role, shared by that
// role's clients in every region, so that one AssumeRole serves them all
// until the credentials near their expiry.
import type { FinalizeRequestMiddleware, MetadataBearer } from "@smithy/types";
import { QuorateError } from "../errors.js";
import { classifyAwsError } from "./awsErrors.js";
import {
  AutoScalingClient,
  CloudFormationClient,
  doesIdentityRequireRefresh,
  EC2Client,
  fromTemporaryCredentials,
  isIdentityExpired,
  memoizeIdentityProvider,
  S3Client,
} from "./sdk.js";

export const LOCAL_ENDPOINT = "http://127.0.0.1:4566";

export interface AwsOptions {
  /** Explicit endpoint (--endpoint / --local); otherwise the SDK reads AWS_ENDPOINT_URL or uses AWS. */
  endpoint?: string;
  /** Attempts per call, including the first; the SDK backs off adaptively between them. */
  maxAttempts?: number;
}

/** The role a cluster's clients assume (the manifest's spec.account). */
export interface AccountRole {
  roleArn: string;
  externalId?: string;
  sessionName: string;
}

/** Clients for a region, in the ambient account or in the account of a role. */
export type AwsClientPool = (region: string, account?: AccountRole) => AwsClients;

/**
 * AssumeRole refused (AccessDenied, a trust policy that does not name quorate,
 * a wrong externalId): terminal, and told apart so that the clusters of that
 * account are Stalled with the role named while the others go on.
 */
export class AssumeRoleRefused extends QuorateError {
  constructor(
    readonly roleArn: string,
    message: string,
    cause: unknown,
  ) {
    super(
      "terminal",
      `cannot assume role ${roleArn}: ${message}`,
      "check that the role's trust policy lets quorate's principal assume it (with this externalId, if it asks for one), and that quorate's own policy allows sts:AssumeRole on the role",
      { cause },
    );
    this.name = "AssumeRoleRefused";
  }
}

export interface AwsClients {
  region: string;
  /** Absent: the ambient credentials' account. */
  account?: AccountRole;
  cloudFormation: CloudFormationClient;
  autoScaling: AutoScalingClient;
  ec2: EC2Client;
  /** Snapshots (src/aws/snapshotBucket.ts); path-style against an explicit endpoint. */
  s3: S3Client;
}

/** The local cloud needs no real credentials; any static keys sign requests it accepts. */
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

type AwsCredentialIdentityProvider = ReturnType<typeof fromTemporaryCredentials>;

/** The pool's key of a role: the same role with another externalId or session is another session. */
export function accountRoleKey(account: AccountRole | undefined): string {
  if (!account) return "";
  return JSON.stringify([account.roleArn, account.externalId ?? "", account.sessionName]);
}

/** Lazily creates and caches one set of clients per region and account role. */
export function createAwsClientPool(
  options: AwsOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): AwsClientPool {
  const pool = new Map<string, AwsClients>();
  const providers = new Map<string, AwsCredentialIdentityProvider>();
  const endpoint = options.endpoint;
  const isLocal = endpoint !== undefined && /^https?:\/\/127\./.test(endpoint);
  const hasCredentials = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE);
  const ambient = isLocal && !hasCredentials ? LOCAL_CREDENTIALS : undefined;
  const maxAttempts = options.maxAttempts ?? 6;

  const providerFor = (account: AccountRole, region: string): AwsCredentialIdentityProvider => {
    const key = accountRoleKey(account);
    const existing = providers.get(key);
    if (existing) return existing;
    const assume = fromTemporaryCredentials({
      params: {
        RoleArn: account.roleArn,
        RoleSessionName: account.sessionName,
        ...(account.externalId ? { ExternalId: account.externalId } : {}),
      },
      // The ambient credentials (or the local cloud's keys) sign the AssumeRole,
      // at the same endpoint as every other call: the local cloud serves STS too.
      ...(ambient ? { masterCredentials: ambient } : {}),
      clientConfig: { region, maxAttempts, ...(endpoint ? { endpoint } : {}) },
    });
    const named: AwsCredentialIdentityProvider = async (identity) => {
      try {
        return await assume(identity);
      } catch (error) {
        throw assumeRoleError(account.roleArn, error);
      }
    };
    // fromTemporaryCredentials asks STS on every call; memoized, one session
    // serves every client of the role until it nears expiry, and a refused
    // AssumeRole is not remembered, so the next pass asks again.
    const memoized = memoizeIdentityProvider(named, isIdentityExpired, doesIdentityRequireRefresh);
    if (!memoized) throw new Error("memoizeIdentityProvider returned no provider");
    providers.set(key, memoized);
    return memoized;
  };

  return (region, account) => {
    const poolKey = `${region}\u0000${accountRoleKey(account)}`;
    const existing = pool.get(poolKey);
    if (existing) return existing;
    const credentials = account ? providerFor(account, region) : ambient;
    const config = {
      region,
      maxAttempts,
      retryMode: "adaptive",
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    };
    const made: Partial<Omit<AwsClients, "region" | "account">> = {};
    const clients: AwsClients = {
      region,
      ...(account ? { account } : {}),
      get cloudFormation() {
        made.cloudFormation ??= new CloudFormationClient(config);
        return made.cloudFormation;
      },
      get autoScaling() {
        made.autoScaling ??= new AutoScalingClient(config);
        return made.autoScaling;
      },
      get ec2() {
        made.ec2 ??= new EC2Client(config);
        return made.ec2;
      },
      // Against an explicit endpoint (the local cloud, or an S3-compatible store)
      // buckets are addressed in the path, as such endpoints expect.
      get s3() {
        if (!made.s3) {
          made.s3 = new S3Client({ ...config, ...(endpoint ? { forcePathStyle: true } : {}) });
          if (endpoint?.startsWith("http:")) signPayloadsAsOverHttps(made.s3);
        }
        return made.s3;
      },
    };
    pool.set(poolKey, clients);
    return clients;
  };
}

/** A refusal names the role; throttling, timeouts and 5xx stay transient. */
function assumeRoleError(roleArn: string, error: unknown): QuorateError {
  const classified = classifyAwsError(error, `assuming role ${roleArn}`);
  if (classified.kind !== "terminal") return classified;
  const e = error as { name?: string; message?: string };
  return new AssumeRoleRefused(
    roleArn,
    `${e?.name ?? "Error"}: ${e?.message ?? String(error)}`,
    error,
  );
}

/** --local, --endpoint and AWS_ENDPOINT_URL, in that order of precedence. */
export function resolveEndpoint(
  flags: { local?: boolean; endpoint?: string },
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (flags.endpoint) return flags.endpoint;
  if (flags.local) return env.QUORATE_LOCAL_ENDPOINT ?? LOCAL_ENDPOINT;
  return env.AWS_ENDPOINT_URL || undefined;
}

/**
 * Over HTTPS (every AWS endpoint) the SDK signs S3 bodies as UNSIGNED-PAYLOAD
 * and S3 checks each part by its CRC32 checksum, which the SDK still sends.
 * Over plain HTTP (the local cloud) it would also hash every byte of every part
 * for SigV4, work quorate never does against AWS: a 1.2 GiB snapshot is 1.2 GiB
 * more of sha256 on each side. Marked unsigned before signing, an upload to the
 * local cloud costs what it costs against AWS.
 */
function signPayloadsAsOverHttps(s3: S3Client): void {
  const unsigned: FinalizeRequestMiddleware<object, MetadataBearer> = (next) => async (args) => {
    const request = args.request as { headers?: Record<string, string>; body?: unknown };
    const headers = request.headers;
    // Only a body held in memory is hashed by the signer (a stream already goes unsigned).
    if (headers && ArrayBuffer.isView(request.body) && !hasHeader(headers, "x-amz-content-sha256"))
      headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD";
    return next(args);
  };
  s3.middlewareStack.addRelativeTo(unsigned, {
    relation: "before",
    toMiddleware: "httpSigningMiddleware",
    name: "quorateUnsignedPayload",
  });
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((h) => h.toLowerCase() === name);
}
