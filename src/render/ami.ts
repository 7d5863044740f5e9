// Flatcar AMI resolution. The lookup in a release feed is pure; fetching the
// feed (HTTP, file, or a mirror directory) and caching it is the IO edge.
// Feed shape and location: docs/references.md#flatcar-ami-feed
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { terminal, transient } from "../errors.js";
import { type Architecture, instanceArchitecture } from "../manifest/architecture.js";
import type { ClusterSpec, FlatcarChannel } from "../manifest/types.js";
import { sha256Hex } from "./canonicalJson.js";

export const DEFAULT_AMI_FEED =
  "https://{channel}.release.flatcar-linux.net/{arch}/{version}/flatcar_production_ami_all.json";

/** Flatcar's name for each architecture's release tree ("board"). */
export type FlatcarBoard = "amd64-usr" | "arm64-usr";
export const BOARD: Record<Architecture, FlatcarBoard> = {
  x86_64: "amd64-usr",
  arm64: "arm64-usr",
};

const FEED_FILE = "flatcar_production_ami_all.json";
const AMI_ID = /^ami-([0-9a-f]{8}|[0-9a-f]{17})$/;

export interface AmiWhere {
  region: string;
  channel: string;
  version: string;
  /** The URL or path the feed was read from, named in every error. */
  source: string;
}

/** The region -> AMI map of a feed document, or a terminal error saying why it is malformed. */
export function parseAmiFeed(feed: unknown, where: Omit<AmiWhere, "region">): Map<string, string> {
  const malformed = (why: string) =>
    terminal(
      `Flatcar ${where.channel} ${where.version} release feed is malformed: ${why} (feed: ${where.source})`,
      'point the feed at a flatcar_production_ami_all.json ({"amis":[{"name":"<region>","hvm":"ami-..."}]}) or pin spec.image.imageId',
    );
  const amis = (feed as { amis?: unknown } | null)?.amis;
  if (typeof feed !== "object" || feed === null || !Array.isArray(amis)) {
    throw malformed('expected an object with an "amis" array');
  }
  const byRegion = new Map<string, string>();
  amis.forEach((entry: unknown, i) => {
    const { name, hvm } = (entry ?? {}) as { name?: unknown; hvm?: unknown };
    if (typeof name !== "string" || name === "") throw malformed(`amis[${i}] has no region name`);
    if (typeof hvm !== "string" || !AMI_ID.test(hvm)) {
      throw malformed(`amis[${i}] (${name}) has no valid "hvm" AMI id`);
    }
    byRegion.set(name, hvm);
  });
  return byRegion;
}

/** The AMI of `where.region` in a Flatcar release feed document. */
export function lookupAmi(feed: unknown, where: AmiWhere): string {
  const byRegion = parseAmiFeed(feed, where);
  const ami = byRegion.get(where.region);
  if (ami !== undefined) return ami;
  const known = [...byRegion.keys()].sort().join(", ") || "none";
  throw terminal(
    `Flatcar ${where.channel} ${where.version} has no AMI in region ${where.region} (feed: ${where.source}; regions in the feed: ${known})`,
    "check the region or pin spec.image.imageId",
  );
}

export interface AmiFeed {
  /** The AMI for the spec: its pinned imageId, else the feed's AMI for its channel, version and region. */
  resolve(spec: ClusterSpec): Promise<string>;
}

export interface AmiFeedOptions {
  /**
   * A URL template with {channel}, {version} and {arch} (amd64-usr or
   * arm64-usr; http, https or file://), or a directory holding
   * <channel>/<version>/flatcar_production_ami_all.json for amd64-usr and
   * arm64-usr/<channel>/<version>/flatcar_production_ami_all.json for arm64.
   */
  source?: string;
  /** Directory for fetched feeds; released versions never change, so entries never expire. */
  cacheDir?: string;
  fetchImpl?: typeof fetch;
}

export function createAmiFeed(options: AmiFeedOptions = {}): AmiFeed {
  const source = options.source ?? DEFAULT_AMI_FEED;
  const fetchImpl = options.fetchImpl ?? fetch;
  const feeds = new Map<string, Promise<unknown>>();

  async function load(
    channel: FlatcarChannel,
    version: string,
    board: FlatcarBoard,
  ): Promise<unknown> {
    const location = feedLocation(source, channel, version, board);
    if (location.kind === "file") return readFeedFile(location.path, channel, version);
    const cachePath = options.cacheDir
      ? join(options.cacheDir, sha256Hex(source).slice(0, 12), board, channel, `${version}.json`)
      : undefined;
    const cached = cachePath ? await readCachedFeed(cachePath) : undefined;
    if (cached !== undefined) return cached;
    const text = await fetchFeed(fetchImpl, location.url, channel, version);
    const feed = parseFeedText(text, channel, version, location.url);
    // Only a well-formed feed is worth keeping.
    parseAmiFeed(feed, { channel, version, source: location.url });
    if (cachePath) await writeAtomically(cachePath, text);
    return feed;
  }

  function feedOf(channel: FlatcarChannel, version: string, board: FlatcarBoard) {
    const key = `${board}/${channel}/${version}`;
    let feed = feeds.get(key);
    if (!feed) {
      feed = load(channel, version, board);
      feeds.set(key, feed);
      // A failed load is not cached: a transient failure must be retried.
      feed.catch(() => feeds.delete(key));
    }
    return feed;
  }

  return {
    async resolve(spec) {
      const { image } = spec;
      const arch = instanceArchitecture(spec.instanceType);
      if (arch === "unsupported") {
        throw terminal(
          `cluster ${spec.name}: instance type ${spec.instanceType} fits neither image architecture`,
          "use an x86_64 or a Graviton (arm64) instance type",
        );
      }
      if (image.imageId) {
        if (image.os === "flatcar" && image.version) {
          await refuseOtherArchitecture(spec, image.imageId, arch);
        }
        return image.imageId;
      }
      if (image.os !== "flatcar") {
        throw terminal(
          `cluster ${spec.name}: image.os ${image.os} has no release feed`,
          "pin spec.image.imageId",
        );
      }
      if (!image.version) {
        throw terminal(
          `cluster ${spec.name}: spec.image has neither version nor imageId`,
          "set spec.image.version (for example 4081.2.0) or pin spec.image.imageId",
        );
      }
      const board = BOARD[arch];
      const feed = feedOf(image.channel, image.version, board);
      const where = { channel: image.channel, version: image.version, region: spec.region };
      return lookupAmi(await feed, {
        ...where,
        source: describeLocation(feedLocation(source, image.channel, image.version, board)),
      });
    },
  };

  /**
   * A pinned AMI that the other architecture's feed of the same release lists
   * would be refused by RunInstances: say so at the manifest instead. An AMI
   * neither feed knows (a custom build) is the operator's to vouch for.
   */
  async function refuseOtherArchitecture(
    spec: ClusterSpec,
    imageId: string,
    arch: Architecture,
  ): Promise<void> {
    const other: Architecture = arch === "arm64" ? "x86_64" : "arm64";
    const { channel, version } = spec.image;
    if (!version) return;
    let amis: Map<string, string>;
    try {
      const where = { channel, version, source: "feed" };
      amis = parseAmiFeed(await feedOf(channel, version, BOARD[other]), where);
    } catch {
      return; // the other feed is unknown here: nothing to compare against
    }
    if (amis.get(spec.region) !== imageId) return;
    const { file, line, column } = spec.source;
    throw terminal(
      `${file}:${line}:${column}: cluster ${spec.name}: spec.image.imageId ${imageId} is Flatcar ${channel} ${version} for ${other} (${BOARD[other]} feed), and ${spec.instanceType} is ${arch}`,
      `pin the ${BOARD[arch]} AMI of ${spec.region}, remove imageId to look it up, or choose an ${other} instance type`,
    );
  }
}

type FeedLocation = { kind: "url"; url: string } | { kind: "file"; path: string };

function feedLocation(
  source: string,
  channel: string,
  version: string,
  board: FlatcarBoard,
): FeedLocation {
  const isTemplate = /^(https?|file):\/\//.test(source);
  if (isTemplate && board !== "amd64-usr" && !source.includes("{arch}")) {
    throw terminal(
      `the AMI feed ${source} has no {arch}, so it cannot give ${board} images`,
      "add {arch} where the URL names amd64-usr (quorate fills in amd64-usr or arm64-usr), or pin spec.image.imageId",
    );
  }
  const fill = (template: string) =>
    template
      .replaceAll("{channel}", channel)
      .replaceAll("{version}", version)
      .replaceAll("{arch}", board);
  if (/^https?:\/\//.test(source)) return { kind: "url", url: fill(source) };
  if (source.startsWith("file://")) return { kind: "file", path: fileURLToPath(fill(source)) };
  const tree = board === "amd64-usr" ? [] : [board];
  return { kind: "file", path: join(source, ...tree, channel, version, FEED_FILE) };
}

function describeLocation(location: FeedLocation): string {
  return location.kind === "url" ? location.url : location.path;
}

async function readFeedFile(path: string, channel: string, version: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw unknownVersion(channel, version, path);
    throw terminal(
      `cannot read the Flatcar release feed ${path}: ${(error as Error).message}`,
      "check the AMI feed directory",
      error,
    );
  }
  return parseFeedText(text, channel, version, path);
}

async function fetchFeed(
  fetchImpl: typeof fetch,
  url: string,
  channel: string,
  version: string,
): Promise<string> {
  let response: Response;
  try {
    response = await fetchImpl(url, { redirect: "follow" });
  } catch (error) {
    throw transient(
      `cannot fetch the Flatcar release feed ${url}: ${(error as Error).message}`,
      "check network access to the feed and try again (quorate run retries on its own)",
      error,
    );
  }
  if (response.status === 404 || response.status === 410) {
    throw unknownVersion(channel, version, url);
  }
  if (!response.ok) {
    throw transient(
      `the Flatcar release feed ${url} answered HTTP ${response.status}`,
      "try again (quorate run retries on its own); if it persists, pin spec.image.imageId",
    );
  }
  return response.text();
}

function unknownVersion(channel: string, version: string, source: string) {
  return terminal(
    `Flatcar ${channel} ${version} is not a released version of the ${channel} channel (feed: ${source})`,
    "check spec.image.channel and spec.image.version against https://www.flatcar.org/releases, or pin spec.image.imageId",
  );
}

function parseFeedText(text: string, channel: string, version: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw terminal(
      `Flatcar ${channel} ${version} release feed is malformed: not JSON (feed: ${source})`,
      "point the feed at a flatcar_production_ami_all.json or pin spec.image.imageId",
      error,
    );
  }
}

/** A cached feed, or undefined when there is none or it is unreadable (then it is fetched again). */
async function readCachedFeed(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * The cache is an optimisation: failing to write it must not fail a render.
 * Temp file + rename, so a concurrent reader never sees half a feed.
 */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(temp, text);
    await rename(temp, path);
  } catch {
    await rm(temp, { force: true }).catch(() => undefined);
  }
}
