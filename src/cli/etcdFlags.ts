// TLS flags for quorate's own calls to etcd, shared by every command that probes members.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { usage } from "../errors.js";
import type { EtcdClientOptions } from "../etcd/client.js";

export const ETCD_FLAGS = {
  "etcd-ca": { type: "string" },
  "etcd-cert": { type: "string" },
  "etcd-key": { type: "string" },
} as const;

export const ETCD_FLAGS_HELP = `  --etcd-ca FILE       CA bundle that signed the members' certificates (clusters with etcd.tls)
  --etcd-cert FILE     client certificate quorate presents to the members
  --etcd-key FILE      its private key`;

export function etcdClientOptions(
  flags: {
    "etcd-ca"?: string | undefined;
    "etcd-cert"?: string | undefined;
    "etcd-key"?: string | undefined;
  },
  cwd: string,
): EtcdClientOptions {
  const read = (flag: string, path: string | undefined) => {
    if (!path) return undefined;
    try {
      return readFileSync(join(cwd, path));
    } catch (error) {
      throw usage(`--${flag} ${path}: ${(error as Error).message}`);
    }
  };
  const ca = read("etcd-ca", flags["etcd-ca"]);
  const cert = read("etcd-cert", flags["etcd-cert"]);
  const key = read("etcd-key", flags["etcd-key"]);
  if (Boolean(cert) !== Boolean(key)) throw usage("--etcd-cert and --etcd-key go together");
  if (!ca && !cert) return {};
  return { tls: { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } };
}
