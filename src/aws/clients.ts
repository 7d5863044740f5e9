// SDK clients per region, configured the way every AWS tool is (environment,
// profiles, AWS_ENDPOINT_URL), plus --local for quorate's own local cloud.
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";

export const LOCAL_ENDPOINT = "http://127.0.0.1:4566";

export interface AwsOptions {
  /** Explicit endpoint (--endpoint / --local); otherwise the SDK reads AWS_ENDPOINT_URL or uses AWS. */
  endpoint?: string;
  /** Attempts per call, including the first; the SDK backs off adaptively between them. */
  maxAttempts?: number;
}

export interface AwsClients {
  region: string;
  cloudFormation: CloudFormationClient;
  autoScaling: AutoScalingClient;
  ec2: EC2Client;
  /** Snapshots (src/aws/snapshotBucket.ts); path-style against an explicit endpoint. */
  s3: S3Client;
}

/** The local cloud needs no real credentials; any static keys sign requests it accepts. */
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/** Lazily creates and caches one set of clients per region. */
export function createAwsClientPool(
  options: AwsOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): (region: string) => AwsClients {
  const pool = new Map<string, AwsClients>();
  const endpoint = options.endpoint;
  const isLocal = endpoint !== undefined && /^https?:\/\/127\./.test(endpoint);
  const hasCredentials = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE);
  return (region) => {
    const existing = pool.get(region);
    if (existing) return existing;
    const config = {
      region,
      maxAttempts: options.maxAttempts ?? 6,
      retryMode: "adaptive",
      ...(endpoint ? { endpoint } : {}),
      ...(isLocal && !hasCredentials ? { credentials: LOCAL_CREDENTIALS } : {}),
    };
    const clients: AwsClients = {
      region,
      cloudFormation: new CloudFormationClient(config),
      autoScaling: new AutoScalingClient(config),
      ec2: new EC2Client(config),
      // Against an explicit endpoint (the local cloud, or an S3-compatible store)
      // buckets are addressed in the path, as such endpoints expect.
      s3: new S3Client({ ...config, ...(endpoint ? { forcePathStyle: true } : {}) }),
    };
    pool.set(region, clients);
    return clients;
  };
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
