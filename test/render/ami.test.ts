import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeError, QuorateError } from "../../src/errors.js";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { createAmiFeed, lookupAmi } from "../../src/render/ami.js";
import { coreosLegacySpec, devSpec } from "./specs.js";

const FIXTURES = join(import.meta.dirname, "../fixtures/flatcar");
const FEED_4081 = join(FIXTURES, "stable/4081.2.0/flatcar_production_ami_all.json");
const EU_WEST_1_4081 = "ami-0199c4f8b5d417905";
const EU_WEST_1_4152 = "ami-08d47e97b1d3fea53";

function specAt(version: string, region = "eu-west-1"): ClusterSpec {
  const spec = devSpec();
  spec.image.version = version;
  spec.region = region;
  return spec;
}

async function caught(run: () => unknown): Promise<QuorateError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(QuorateError);
    return error as QuorateError;
  }
  throw new Error("expected an error");
}

describe("lookupAmi", () => {
  const where = { channel: "stable", version: "4081.2.0", source: "https://feed/x.json" };

  it("finds the region's hvm AMI", async () => {
    const feed = JSON.parse(await readFile(FEED_4081, "utf8"));
    expect(lookupAmi(feed, { ...where, region: "eu-west-1" })).toBe(EU_WEST_1_4081);
    expect(lookupAmi(feed, { ...where, region: "us-east-1" })).toMatch(/^ami-0[0-9a-f]{16}$/);
  });

  it.each([
    [
      "an unknown region",
      { amis: [{ name: "eu-west-1", hvm: "ami-0123456789abcdef0" }] },
      "xx-foo-1",
      "Flatcar stable 4081.2.0 has no AMI in region xx-foo-1 (feed: https://feed/x.json; regions in the feed: eu-west-1): check the region or pin spec.image.imageId",
    ],
    [
      "a feed without amis",
      { images: [] },
      "eu-west-1",
      'Flatcar stable 4081.2.0 release feed is malformed: expected an object with an "amis" array (feed: https://feed/x.json)',
    ],
    [
      "a feed that is not an object",
      "amis",
      "eu-west-1",
      "release feed is malformed: expected an object",
    ],
    [
      "an entry without a region",
      { amis: [{ hvm: "ami-0123456789abcdef0" }] },
      "eu-west-1",
      "release feed is malformed: amis[0] has no region name",
    ],
    [
      "an entry with a bad AMI id",
      { amis: [{ name: "eu-west-1", hvm: "ami-XYZ" }] },
      "eu-west-1",
      'release feed is malformed: amis[0] (eu-west-1) has no valid "hvm" AMI id',
    ],
  ])("refuses %s with a terminal error that says what to do", async (_name, feed, region, text) => {
    const error = await caught(() => lookupAmi(feed, { ...where, region }));
    expect(error.kind).toBe("terminal");
    expect(describeError(error)).toContain(text);
    expect(error.hint).toMatch(/pin spec\.image\.imageId/);
  });
});

describe("createAmiFeed from a directory or file:// template", () => {
  it("resolves from a mirror directory", async () => {
    const feed = createAmiFeed({ source: FIXTURES });
    expect(await feed.resolve(specAt("4081.2.0"))).toBe(EU_WEST_1_4081);
    expect(await feed.resolve(specAt("4152.2.0"))).toBe(EU_WEST_1_4152);
  });

  it("resolves from a file:// template", async () => {
    const template = `${pathToFileURL(FIXTURES).href}/{channel}/{version}/flatcar_production_ami_all.json`;
    expect(await createAmiFeed({ source: template }).resolve(specAt("4152.2.0"))).toBe(
      EU_WEST_1_4152,
    );
  });

  it("returns a pinned imageId without reading any feed", async () => {
    const feed = createAmiFeed({ source: "/nonexistent" });
    expect(await feed.resolve(coreosLegacySpec())).toBe("ami-0123456789abcdef0");
  });

  it.each([
    [
      "an unknown version",
      specAt("9999.0.0"),
      /Flatcar stable 9999\.0\.0 is not a released version of the stable channel \(feed: .*stable\/9999\.0\.0\/flatcar_production_ami_all\.json\): check spec\.image\.channel and spec\.image\.version/,
    ],
    [
      "an unknown region",
      specAt("4081.2.0", "xx-foo-1"),
      /Flatcar stable 4081\.2\.0 has no AMI in region xx-foo-1 \(feed: .*4081\.2\.0\/flatcar_production_ami_all\.json;/,
    ],
    [
      "coreos-legacy without imageId",
      { ...coreosLegacySpec(), image: { os: "coreos-legacy", channel: "stable" } },
      /image\.os coreos-legacy has no release feed: pin spec\.image\.imageId/,
    ],
    [
      "flatcar without version or imageId",
      { ...devSpec(), image: { os: "flatcar", channel: "stable" } },
      /spec\.image has neither version nor imageId/,
    ],
  ] as [string, ClusterSpec, RegExp][])("refuses %s (terminal)", async (_name, spec, message) => {
    const error = await caught(() => createAmiFeed({ source: FIXTURES }).resolve(spec));
    expect(error.kind).toBe("terminal");
    expect(describeError(error)).toMatch(message);
  });

  it("refuses a feed file that is not JSON", async () => {
    const dir = await mkdtemp(join(tmpdir(), "quorate-ami-"));
    try {
      const file = join(dir, "feed.json");
      await writeFile(file, "<html>not found</html>");
      const error = await caught(() =>
        createAmiFeed({ source: pathToFileURL(file).href }).resolve(specAt("4081.2.0")),
      );
      expect(error.kind).toBe("terminal");
      expect(error.message).toBe(
        `Flatcar stable 4081.2.0 release feed is malformed: not JSON (feed: ${file})`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("createAmiFeed over HTTP (loopback server)", () => {
  let server: Server;
  let base: string;
  const requests: string[] = [];
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "quorate-ami-cache-"));
    server = createServer((req, res) => {
      const path = req.url ?? "/";
      requests.push(path);
      const match =
        /^\/(ok|broken)\/([a-z]+)\/amd64-usr\/([\d.]+)\/flatcar_production_ami_all\.json$/.exec(
          path,
        );
      if (match?.[1] === "broken") {
        res.writeHead(500).end("internal error");
        return;
      }
      readFile(
        join(FIXTURES, match?.[2] ?? "-", match?.[3] ?? "-", "flatcar_production_ami_all.json"),
      )
        .then((body) => res.writeHead(200, { "content-type": "application/json" }).end(body))
        .catch(() => res.writeHead(404).end("not found"));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(cacheDir, { recursive: true, force: true });
  });

  const template = (prefix: string) =>
    `${base}/${prefix}/{channel}/amd64-usr/{version}/flatcar_production_ami_all.json`;

  it("fetches once per channel and version, then answers from memory", async () => {
    requests.length = 0;
    const feed = createAmiFeed({ source: template("ok") });
    expect(await feed.resolve(specAt("4081.2.0"))).toBe(EU_WEST_1_4081);
    expect(await feed.resolve(specAt("4081.2.0", "us-east-1"))).toMatch(/^ami-/);
    expect(await feed.resolve(specAt("4152.2.0"))).toBe(EU_WEST_1_4152);
    expect(requests).toEqual([
      "/ok/stable/amd64-usr/4081.2.0/flatcar_production_ami_all.json",
      "/ok/stable/amd64-usr/4152.2.0/flatcar_production_ami_all.json",
    ]);
  });

  it("keeps fetched feeds on disk, so a new feed object does not fetch again", async () => {
    requests.length = 0;
    await createAmiFeed({ source: template("ok"), cacheDir }).resolve(specAt("4081.2.0"));
    expect(requests).toHaveLength(1);
    const again = createAmiFeed({ source: template("ok"), cacheDir });
    expect(await again.resolve(specAt("4081.2.0"))).toBe(EU_WEST_1_4081);
    expect(requests).toHaveLength(1);
  });

  it("says an unknown version when the feed answers 404", async () => {
    const error = await caught(() =>
      createAmiFeed({ source: template("ok") }).resolve(specAt("9999.0.0")),
    );
    expect(error.kind).toBe("terminal");
    expect(error.message).toBe(
      `Flatcar stable 9999.0.0 is not a released version of the stable channel (feed: ${base}/ok/stable/amd64-usr/9999.0.0/flatcar_production_ami_all.json)`,
    );
  });

  it("treats HTTP 500 as transient, names the URL, and retries on the next call", async () => {
    requests.length = 0;
    const feed = createAmiFeed({ source: template("broken"), cacheDir });
    for (let i = 0; i < 2; i++) {
      const error = await caught(() => feed.resolve(specAt("4081.2.0")));
      expect(error.kind).toBe("transient");
      expect(error.message).toBe(
        `the Flatcar release feed ${base}/broken/stable/amd64-usr/4081.2.0/flatcar_production_ami_all.json answered HTTP 500`,
      );
    }
    expect(requests).toHaveLength(2);
  });

  it("treats a connection failure as transient and names the URL", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const url = `http://127.0.0.1:${port}/{channel}/{version}.json`;
    const error = await caught(() => createAmiFeed({ source: url }).resolve(specAt("4081.2.0")));
    expect(error.kind).toBe("transient");
    expect(error.message).toContain(
      `cannot fetch the Flatcar release feed http://127.0.0.1:${port}/stable/4081.2.0.json`,
    );
  });
});
