// Graviton members get Flatcar's arm64 image: the AMI comes from the
// arm64-usr feed, a pinned AMI of the other architecture is refused, and the
// whole arm64 stack is kept as a golden file.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeError } from "../../src/errors.js";
import { feedDocument, localAmiId } from "../../src/localcloud/index.js";
import { createAmiFeed } from "../../src/render/ami.js";
import { renderStack } from "../../src/render/template.js";
import { expectGolden, RENDER_FIXTURES } from "./golden.js";
import { devSpec } from "./specs.js";

const FEED_DIR = join(import.meta.dirname, "../fixtures/flatcar");
/** test/fixtures/flatcar/arm64-usr/stable/4081.2.0 (stand-in ids, see its README). */
const ARM64_EU_WEST_1 = "ami-0421af45dd3aa8099";
/** test/fixtures/flatcar/stable/4081.2.0, the amd64-usr feed. */
const AMD64_EU_WEST_1 = "ami-0199c4f8b5d417905";

function gravitonSpec() {
  const spec = devSpec();
  spec.name = "graviton";
  spec.stackName = "quorate-graviton";
  spec.instanceType = "m7g.large";
  return spec;
}

async function failure(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    return describeError(error);
  }
  throw new Error("expected an error");
}

describe("arm64 (Graviton) members", () => {
  it("take their AMI from the arm64-usr feed, and x86 members from amd64-usr", async () => {
    const feed = createAmiFeed({ source: FEED_DIR });
    expect(await feed.resolve(gravitonSpec())).toBe(ARM64_EU_WEST_1);
    expect(await feed.resolve(devSpec())).toBe(AMD64_EU_WEST_1);
  });

  it("refuse a pinned AMI that the amd64-usr feed of the same release lists", async () => {
    const spec = gravitonSpec();
    spec.image.imageId = AMD64_EU_WEST_1;
    const message = await failure(createAmiFeed({ source: FEED_DIR }).resolve(spec));
    expect(message).toBe(
      `clusters/dev.yaml:6:1: cluster graviton: spec.image.imageId ${AMD64_EU_WEST_1} is Flatcar stable 4081.2.0 for x86_64 (amd64-usr feed), and m7g.large is arm64: pin the arm64-usr AMI of eu-west-1, remove imageId to look it up, or choose an x86_64 instance type`,
    );
  });

  it("keep a pinned AMI that neither feed lists (a custom build)", async () => {
    const spec = gravitonSpec();
    spec.image.imageId = "ami-0aaaaaaaaaaaaaaaa";
    expect(await createAmiFeed({ source: FEED_DIR }).resolve(spec)).toBe("ami-0aaaaaaaaaaaaaaaa");
  });

  it("need {arch} in a feed URL template", async () => {
    const feed = createAmiFeed({ source: "https://mirror.example/{channel}/{version}/feed.json" });
    expect(await failure(feed.resolve(gravitonSpec()))).toContain(
      "has no {arch}, so it cannot give arm64-usr images",
    );
  });

  it("get their own ids from the local cloud's feed, and x86 ids stay as they were", () => {
    const arm = feedDocument("stable", "4081.2.0", "arm64-usr").amis.find(
      (a) => a.name === "eu-west-1",
    );
    expect(arm?.hvm).toBe(localAmiId("stable", "4081.2.0", "eu-west-1", "arm64-usr"));
    expect(arm?.hvm).not.toBe(localAmiId("stable", "4081.2.0", "eu-west-1"));
  });

  it("render the golden arm64 stack", async () => {
    const spec = gravitonSpec();
    const imageId = await createAmiFeed({ source: FEED_DIR }).resolve(spec);
    expectGolden(
      join(RENDER_FIXTURES, "graviton.template.json"),
      renderStack(spec, { imageId }).templateBody,
    );
  });
});
