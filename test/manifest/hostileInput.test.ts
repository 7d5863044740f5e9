// Hostile or careless input stays in its own file: each bad document is an
// error at FILE:LINE:COL and the other files' clusters are still read.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadManifests, MAX_MANIFEST_BYTES } from "../../src/manifest/load.js";
import { escapeControl, formatManifestError } from "../../src/manifest/manifestError.js";
import { parseManifests } from "../../src/manifest/parse.js";

const DEV = readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8");

const BOMB = [
  "a: &a [1,1,1,1,1,1,1,1,1]",
  "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]",
  "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]",
  "d: [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
  "",
].join("\n");

describe("one bad document among good ones", () => {
  it.each([
    [
      "a bare scalar",
      "hello\n",
      "manifest.root",
      "bad.yaml:1:1: the document is not a map (got a string)",
    ],
    [
      "a list",
      "- a\n- b\n",
      "manifest.root",
      "bad.yaml:1:1: the document is not a map (got a list)",
    ],
    ["null", "null\n", "manifest.root", "bad.yaml:1:1: the document is not a map (got null)"],
    [
      "a number",
      "\n\n  42\n",
      "manifest.root",
      "bad.yaml:3:3: the document is not a map (got a number)",
    ],
    [
      "a map without spec",
      "apiVersion: quorate.dev/v1alpha1\nkind: EtcdCluster\nmetadata:\n  name: lost\n",
      "schema.required",
      "bad.yaml:1:1: spec: is required",
    ],
    ["a map whose spec is a string", "metadata: 1\nspec: x\n", "schema.type", "bad.yaml:"],
    ["an alias bomb", BOMB, "yaml.aliases", "bad.yaml:1:1: Excessive alias count"],
    [
      "a duplicate key",
      "a: 1\nb: 2\n  \na: 3\n",
      "yaml.duplicateKey",
      'bad.yaml:4:1: the key "a" appears twice',
    ],
    ["a YAML syntax error", "spec:\n  size: [3\n", "yaml.syntax", "bad.yaml:"],
    ["nesting past the stack", `${"[".repeat(20000)}${"]".repeat(20000)}\n`, "yaml.", "bad.yaml:"],
  ])("%s is an error of that file only", (_what, text, rule, line) => {
    const result = parseManifests([
      { file: "bad.yaml", text },
      { file: "dev.yaml", text: DEV },
    ]);
    expect(result.clusters.map((c) => c.name)).toEqual(["dev"]);
    expect(result.errors.length).toBeGreaterThan(0);
    for (const error of result.errors) expect(error.file).toBe("bad.yaml");
    expect(result.errors.some((e) => e.rule.startsWith(rule.replace(/\.$/, "")))).toBe(true);
    expect(result.errors.map(formatManifestError).join("\n")).toContain(line);
  });

  it("names the cluster of a map without spec, so that only its stack is stalled", () => {
    const result = parseManifests([
      { file: "bad.yaml", text: "metadata:\n  name: lost\n" },
      { file: "dev.yaml", text: DEV },
    ]);
    expect(result.invalid.map((i) => i.cluster)).toEqual(["lost"]);
  });

  it("finds every duplicate key among many, at its own line", () => {
    const keys = Array.from({ length: 50_000 }, (_, i) => `k${i}: ${i}`);
    keys.push("k7: again", "k49999: again");
    const result = parseManifests([{ file: "many.yaml", text: `${keys.join("\n")}\n` }]);
    expect(result.errors.map((e) => [e.rule, e.line])).toEqual([
      ["yaml.duplicateKey", 50_001],
      ["yaml.duplicateKey", 50_002],
    ]);
  });

  it("finds a duplicate key nested in a list", () => {
    const result = parseManifests([{ file: "n.yaml", text: "a:\n  - x: 1\n    x: 2\n" }]);
    expect(result.errors.map((e) => [e.rule, e.line, e.column])).toEqual([
      ["yaml.duplicateKey", 3, 5],
    ]);
  });
});

describe("reading manifest files", () => {
  const dir = () => {
    const root = mkdtempSync(join(tmpdir(), "quorate-hostile-"));
    mkdirSync(join(root, "clusters"));
    writeFileSync(join(root, "clusters", "dev.yaml"), DEV);
    return root;
  };

  it("refuses a file over the size cap without reading it, and reads the others", async () => {
    const root = dir();
    writeFileSync(join(root, "clusters", "big.yaml"), Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x61));
    const loaded = await loadManifests(["clusters"], root);
    expect(loaded.clusters.map((c) => c.name)).toEqual(["dev"]);
    expect(loaded.errors.map(formatManifestError)).toEqual([
      `clusters/big.yaml:1:1: is ${MAX_MANIFEST_BYTES + 1} bytes, more than the 1048576 bytes (1 MiB) a manifest may hold: a cluster manifest is a few kilobytes; the file was not read. Split it, or remove what does not belong in it`,
    ]);
    // An invalid manifest of its own, as an unparsable file is, so that the daemon's status names it.
    expect(loaded.invalid.map((i) => [i.source.file, i.cluster, i.errors[0]?.rule])).toEqual([
      ["clusters/big.yaml", undefined, "manifest.tooLarge"],
    ]);
  });

  it("reads a file of exactly the cap", async () => {
    const root = dir();
    const text = `# ${"x".repeat(MAX_MANIFEST_BYTES - 3)}\n`;
    writeFileSync(join(root, "clusters", "edge.yaml"), text);
    const loaded = await loadManifests(["clusters"], root);
    expect(loaded.errors).toEqual([]);
  });

  it("refuses bytes that are not UTF-8 at their line and column, instead of replacing them", async () => {
    const root = dir();
    writeFileSync(
      join(root, "clusters", "latin1.yaml"),
      Buffer.concat([
        Buffer.from("metadata:\n  name: caf"),
        Buffer.from([0xe9]),
        Buffer.from("\n"),
      ]),
    );
    const loaded = await loadManifests(["clusters"], root);
    expect(loaded.clusters.map((c) => c.name)).toEqual(["dev"]);
    expect(loaded.errors.map((e) => [e.file, e.line, e.column, e.rule])).toEqual([
      ["clusters/latin1.yaml", 2, 12, "manifest.encoding"],
    ]);
  });

  it("warns of a symbolic link by name and does not follow it", async () => {
    const root = dir();
    writeFileSync(join(root, "outside.yaml"), DEV.replace("name: dev", "name: other"));
    symlinkSync(join(root, "outside.yaml"), join(root, "clusters", "linked.yaml"));
    const loaded = await loadManifests(["clusters"], root);
    expect(loaded.clusters.map((c) => c.name)).toEqual(["dev"]);
    expect(loaded.warnings).toEqual([
      "clusters/linked.yaml is a symbolic link and is not read: a link may point outside the repository; commit the manifest itself",
    ]);
  });
});

describe("control characters in output", () => {
  it("are escaped in file names and values", () => {
    expect(escapeControl("a\u001b[2Jb\nc\u009bd")).toBe("a\\x1b[2Jb\\x0ac\\x9bd");
    const line = formatManifestError({
      file: "evil\u001b]0;pwned\u0007.yaml",
      line: 1,
      column: 1,
      path: "",
      problem: "the document is not a map",
      got: "x\ry",
      hint: "h",
      rule: "manifest.root",
    });
    expect(line).toBe(
      "evil\\x1b]0;pwned\\x07.yaml:1:1: the document is not a map (got x\\x0dy): h",
    );
  });
});
