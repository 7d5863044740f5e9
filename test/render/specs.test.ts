import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseManifests } from "../../src/manifest/parse.js";
import { devSpec, prodSpec } from "./specs.js";

// The hand-written specs stand for the example manifests; the loader keeps them honest.
describe("test specs", () => {
  it.each([
    ["clusters/dev.yaml", devSpec()],
    ["clusters/prod.yaml", prodSpec()],
  ])("%s loads to the same ClusterSpec", (file, expected) => {
    const text = readFileSync(join(import.meta.dirname, "../..", file), "utf8");
    const set = parseManifests([{ file, text }]);
    expect(set.errors).toEqual([]);
    expect(set.clusters).toEqual([expected]);
  });
});
