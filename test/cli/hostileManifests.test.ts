// The real CLI, spawned, on each kind of bad document: an exit code of the
// table, the file named at line and column, the good manifest beside it still
// read; and a 50 MB file refused without being read.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { EXIT } from "../../src/cli/exitCodes.js";
import { spawnQuorate } from "./spawnCli.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DEV = readFileSync(join(ROOT, "clusters", "dev.yaml"), "utf8");
const CODES = new Set<number>(Object.values(EXIT));

const quorate = spawnQuorate;

const BAD: [string, string | Buffer, RegExp][] = [
  ["scalar.yaml", "hello\n", /scalar\.yaml:1:1: the document is not a map \(got a string\)/],
  ["list.yaml", "- a\n", /list\.yaml:1:1: the document is not a map \(got a list\)/],
  ["null.yaml", "null\n", /null\.yaml:1:1: the document is not a map \(got null\)/],
  ["nospec.yaml", "metadata:\n  name: lost\n", /nospec\.yaml:1:1: spec: is required/],
  [
    "bomb.yaml",
    "a: &a [1,1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n",
    /bomb\.yaml:1:1: Excessive alias count/,
  ],
  ["dup.yaml", "a: 1\na: 2\n", /dup\.yaml:2:1: the key "a" appears twice/],
  ["syntax.yaml", "spec:\n  size: [3\n", /syntax\.yaml:\d+:\d+: YAML syntax error/],
  ["latin1.yaml", Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]), /latin1\.yaml:1:4: is not UTF-8/],
  [
    "big.yaml",
    Buffer.alloc(2 * 1024 * 1024, 0x61),
    /big\.yaml:1:1: is 2097152 bytes, more than the 1048576 bytes/,
  ],
];

describe("quorate validate on a bad document", () => {
  it.each(BAD)("%s: an exit code of the table, the file named", async (name, content, line) => {
    const root = mkdtempSync(join(tmpdir(), "quorate-bad-"));
    mkdirSync(join(root, "clusters"));
    writeFileSync(join(root, "clusters", "dev.yaml"), DEV);
    writeFileSync(join(root, "clusters", name), content);
    const alone = await quorate(["validate", `clusters/${name}`], root);
    expect(CODES.has(alone.code ?? -1), alone.stderr).toBe(true);
    expect(alone.code).toBe(EXIT.error);
    expect(alone.stderr).toMatch(line);
    expect(alone.stderr).not.toMatch(/Cannot read properties|TypeError/);
    // With the good manifest beside it, only the bad file is in error.
    const json = await quorate(["validate", "clusters", "--format", "json"], root);
    const report = JSON.parse(json.stdout) as {
      clusters: { name: string }[];
      errors: { file: string }[];
    };
    expect(report.clusters.map((c) => c.name)).toEqual(["dev"]);
    expect(new Set(report.errors.map((e) => e.file))).toEqual(new Set([`clusters/${name}`]));
  });

  it("refuses a 50 MB manifest within 2 s", async () => {
    const root = mkdtempSync(join(tmpdir(), "quorate-huge-"));
    const keys = Buffer.from("metadata:\n  annotations:\n");
    const body = Buffer.alloc(50 * 1024 * 1024, "    k: v\n");
    writeFileSync(join(root, "huge.yaml"), Buffer.concat([keys, body]));
    const result = await quorate(["validate", "huge.yaml"], root);
    expect(result.code).toBe(EXIT.error);
    expect(result.stderr).toMatch(/^huge\.yaml:1:1: is \d+ bytes, more than the 1048576 bytes/);
    expect(result.ms).toBeLessThan(2000);
  });
});
