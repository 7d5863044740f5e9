// A git repository of cluster manifests on a temp directory, for stories that
// need "what is committed" (quorate plan, reconcile passes, the git source):
// real git, manifests written as YAML files, one commit per step. Manifests
// are generated from a few options, or given whole as data or text.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { git, removeDir, tempDir } from "../source/gitRepos.js";
import { TEST_GATES } from "./quorateHarness.js";

/** What a generated manifest varies by; everything else is a small valid cluster. */
export interface ManifestOptions {
  name: string;
  region?: string;
  /** Odd, 1..9 (default 1). */
  size?: number;
  /** Flatcar stable version (default 4081.2.0). */
  imageVersion?: string;
  instanceType?: string;
  stackName?: string;
  /** Merged over TEST_GATES. */
  gates?: Record<string, unknown>;
  /** Further spec fields, merged over the generated ones (prune, suspend, tags...). */
  spec?: Record<string, unknown>;
}

/** A manifest as plain data (what the YAML file holds). */
export type Manifest = Record<string, any>;

export const DEFAULT_IMAGE_VERSION = "4081.2.0";

export function clusterManifest(options: ManifestOptions): Manifest {
  return {
    apiVersion: "quorate.dev/v1alpha1",
    kind: "EtcdCluster",
    metadata: { name: options.name },
    spec: {
      region: options.region ?? "eu-west-1",
      ...(options.stackName ? { stackName: options.stackName } : {}),
      size: options.size ?? 1,
      instanceType: options.instanceType ?? "t3.medium",
      image: {
        os: "flatcar",
        channel: "stable",
        version: options.imageVersion ?? DEFAULT_IMAGE_VERSION,
      },
      network: {
        vpcId: "vpc-0a1b2c3d4e5f60718",
        subnetIds: ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
        clientCidrs: ["10.0.0.0/16"],
      },
      etcd: { version: "3.5.17" },
      gates: { ...TEST_GATES, ...options.gates },
      terminationProtection: false,
      ...options.spec,
    },
  };
}

export interface ManifestRepo {
  /** The working directory: a git repository on branch main. */
  readonly dir: string;
  /** The manifests directory inside it (what --path and the reconciler's path name). */
  readonly path: string;
  /** Where cluster `name`'s manifest lives, relative to `dir`. */
  fileOf(name: string): string;
  /** Writes (or replaces) one manifest file, from options, data or YAML text; returns its path. */
  write(name: string, manifest: ManifestOptions | Manifest | string): string;
  /** Reads a manifest back, changes it and writes it again. */
  update(name: string, change: (manifest: Manifest) => void): void;
  remove(name: string): void;
  /**
   * Writes `count` generated manifests named `${prefix}-0000`... (size 1 unless
   * `options` says otherwise); returns their names.
   */
  generate(
    count: number,
    options?: { prefix?: string } & Omit<ManifestOptions, "name" | "stackName">,
  ): string[];
  /** Commits everything under `path` (additions, changes, deletions) and returns the sha. */
  commit(message: string): Promise<string>;
  head(): Promise<string>;
  close(): Promise<void>;
}

export async function createManifestRepo(
  options: { path?: string; prefix?: string } = {},
): Promise<ManifestRepo> {
  const dir = await tempDir(options.prefix ?? "manifests");
  const path = options.path ?? "clusters";
  await git(dir, ["init", "--quiet"]);
  mkdirSync(join(dir, path), { recursive: true });

  const fileOf = (name: string) => join(path, `${name}.yaml`);
  const write = (name: string, manifest: ManifestOptions | Manifest | string) => {
    const text =
      typeof manifest === "string"
        ? manifest
        : stringify(
            "apiVersion" in manifest ? manifest : clusterManifest(manifest as ManifestOptions),
          );
    writeFileSync(join(dir, fileOf(name)), text);
    return fileOf(name);
  };

  return {
    dir,
    path,
    fileOf,
    write,
    update(name, change) {
      const manifest = parse(readFileSync(join(dir, fileOf(name)), "utf8")) as Manifest;
      change(manifest);
      write(name, manifest);
    },
    remove(name) {
      rmSync(join(dir, fileOf(name)), { force: true });
    },
    generate(count, { prefix = "cluster", ...rest } = {}) {
      const width = Math.max(4, String(count - 1).length);
      return Array.from({ length: count }, (_, i) => {
        const name = `${prefix}-${String(i).padStart(width, "0")}`;
        write(name, { ...rest, name });
        return name;
      });
    },
    async commit(message) {
      await git(dir, ["add", "--all", "--", path]);
      await git(dir, ["commit", "--quiet", "--allow-empty", "-m", message]);
      return git(dir, ["rev-parse", "HEAD"]);
    },
    head: () => git(dir, ["rev-parse", "HEAD"]),
    close: () => removeDir(dir),
  };
}
