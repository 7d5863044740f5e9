// SDK clients per region, configured the way every AWS tool is (environment,
// profiles, AWS_ENDPOINT_URL), plus --local for quorate's own local cloud.
// Each client's package is loaded the first time the client is used: they
// cost a process 5-73 MiB each (@aws-sdk/client-ec2 alone takes a bare Node
// from 40 to 114 MiB, bench/RESULTS.md), and most commands use one or two.
// The packages are CommonJS, so a synchronous require is the same module an
// import of them gives.
import { createRequire } from "node:module";
import type { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import type { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { S3Client } from "@aws-sdk/client-s3";

const require = createRequire(import.meta.url);

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
    const made: Partial<Omit<AwsClients, "region">> = {};
    const clients: AwsClients = {
      region,
      get cloudFormation() {
        const sdk: typeof import("@aws-sdk/client-cloudformation") = require("@aws-sdk/client-cloudformation");
        made.cloudFormation ??= new sdk.CloudFormationClient(config);
        return made.cloudFormation;
      },
      get autoScaling() {
        const sdk: typeof import("@aws-sdk/client-auto-scaling") = require("@aws-sdk/client-auto-scaling");
        made.autoScaling ??= new sdk.AutoScalingClient(config);
        return made.autoScaling;
      },
      get ec2() {
        const sdk: typeof import("@aws-sdk/client-ec2") = require("@aws-sdk/client-ec2");
        made.ec2 ??= new sdk.EC2Client(config);
        return made.ec2;
      },
      // Against an explicit endpoint (the local cloud, or an S3-compatible store)
      // buckets are addressed in the path, as such endpoints expect.
      get s3() {
        const sdk: typeof import("@aws-sdk/client-s3") = require("@aws-sdk/client-s3");
        made.s3 ??= new sdk.S3Client({ ...config, ...(endpoint ? { forcePathStyle: true } : {}) });
        return made.s3;
      },
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
