// The manifest change `quorate restore` prints and writes: a new restore id,
// and spec.restore set in the cluster's own document with every other byte
// of the file kept (comments, their alignment, other documents).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { parseManifests } from "../../src/manifest/parse.js";
import { manifestWithRestore, nextRestoreId } from "../../src/manifest/restoreEdit.js";

const DEV = readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8");
const restore = { id: "r1", snapshot: "dev/20261207T070000000Z.db" };

describe("nextRestoreId", () => {
  it.each([
    [[], "r1"],
    [["r1"], "r2"],
    [["r9", "r3"], "r10"],
    [["2026-12-04-quorum-loss"], "2026-12-04-quorum-loss-2"],
    [["quorum-loss-1", "r1"], "quorum-loss-2"],
  ])("after %j: %s", (used, next) => {
    expect(nextRestoreId(used)).toBe(next);
  });
});

describe("manifestWithRestore", () => {
  it("adds the block at the end of spec and keeps every other line of the file", () => {
    const out = manifestWithRestore(DEV, 0, restore);
    expect(out.startsWith(DEV)).toBe(true);
    expect(out.slice(DEV.length)).toBe(
      "  restore:\n    id: r1\n    snapshot: dev/20261207T070000000Z.db\n",
    );
    expect(parse(out).spec.restore).toEqual(restore);
  });

  it("gives a manifest that validates, with the restore as written", () => {
    const withBackup = `${DEV}  backup:\n    bucket: snaps\n`;
    const set = parseManifests([
      { file: "dev.yaml", text: manifestWithRestore(withBackup, 0, restore) },
    ]);
    expect(set.errors).toEqual([]);
    expect(set.clusters[0]?.restore).toEqual(restore);
  });

  it("replaces a restore block already there, in place", () => {
    const once = manifestWithRestore(DEV, 0, { id: "r1", snapshot: "latest" });
    const withTail = `${once}  suspend: false\n`;
    const twice = manifestWithRestore(withTail, 0, { id: "r2", snapshot: "dev/b.db" });
    expect(twice).toBe(`${DEV}  restore:\n    id: r2\n    snapshot: dev/b.db\n  suspend: false\n`);
  });

  it("edits only the document it is told, in a file of several", () => {
    const other =
      "apiVersion: quorate.dev/v1alpha1\nkind: EtcdCluster\nspec:\n    size: 5 # wide indent\n";
    const file = `${other}---\n${DEV}`;
    const out = manifestWithRestore(file, 1, restore);
    expect(out.startsWith(`${other}---\n${DEV}`)).toBe(true);
    const docs = parseAllDocuments(out);
    expect(Array.isArray(docs) && docs.map((d) => d.toJS().spec.restore)).toEqual([
      undefined,
      restore,
    ]);
    // The block follows the spec's own indentation.
    expect(manifestWithRestore(file, 0, restore)).toContain(
      "    size: 5 # wide indent\n    restore:\n      id: r1\n",
    );
  });

  it("says to edit by hand when spec is not a block mapping", () => {
    expect(() => manifestWithRestore("spec: {size: 3}\n", 0, restore)).toThrow(
      /YAML document 1 has no block mapping under spec: add spec\.restore by hand/,
    );
  });
});
