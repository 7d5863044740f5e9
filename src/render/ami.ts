// Flatcar AMI resolution. The lookup in a release feed is pure; fetching the
// feed (HTTP, file, or a mirror directory) and caching it is the IO edge.
// Feed shape and location: docs/references.md#flatcar-ami-feed
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { terminal, transient } from "../errors.js";
import type { ClusterSpec, FlatcarChannel } from "../manifest/types.js";
import { sha256Hex } from "./canonicalJson.js";

export const DEFAULT_AMI_FEED =
  "https://{channel}.release.flatcar-linux.net/amd64-usr/{version}/flatcar_production_ami_all.json";

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
   * A URL template with {channel} and {version} (http, https or file://), or a
   * directory holding <channel>/<version>/flatcar_production_ami_all.json.
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

  async function load(channel: FlatcarChannel, version: string): Promise<unknown> {
    const location = feedLocation(source, channel, version);
    if (location.kind === "file") return readFeedFile(location.path, channel, version);
    const cachePath = options.cacheDir
      ? join(options.cacheDir, sha256Hex(source).slice(0, 12), channel, `${version}.json`)
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

  return {
    async resolve(spec) {
      const { image } = spec;
      if (image.imageId) return image.imageId;
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
      const key = `${image.channel}/${image.version}`;
      let feed = feeds.get(key);
      if (!feed) {
        feed = load(image.channel, image.version);
        feeds.set(key, feed);
        // A failed load is not cached: a transient failure must be retried.
        feed.catch(() => feeds.delete(key));
      }
      const where = { channel: image.channel, version: image.version, region: spec.region };
      return lookupAmi(await feed, {
        ...where,
        source: describeLocation(feedLocation(source, image.channel, image.version)),
      });
    },
  };
}

type FeedLocation = { kind: "url"; url: string } | { kind: "file"; path: string };

function feedLocation(source: string, channel: string, version: string): FeedLocation {
  const fill = (template: string) =>
    template.replaceAll("{channel}", channel).replaceAll("{version}", version);
  if (/^https?:\/\//.test(source)) return { kind: "url", url: fill(source) };
  if (source.startsWith("file://")) return { kind: "file", path: fileURLToPath(fill(source)) };
  return { kind: "file", path: join(source, channel, version, FEED_FILE) };
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
