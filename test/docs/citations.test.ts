// Code, tests and the README cite the project's own documentation in docs/,
// by anchor (docs/references.md#rolling-update-triggers). These tests keep
// those citations true: every cited heading exists, and nothing cites design
// notes that live outside the repository, which a clone does not have.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url).pathname;
const SCANNED = ["src", "test", "bench", "examples", "docs", "README.md"];
const TEXT = /\.(ts|mjs|js|md|ya?ml|sh|json)$/;

function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full).flatMap((name) => filesUnder(join(path, name)));
}

const files = SCANNED.flatMap(filesUnder)
  .filter((f) => TEXT.test(f))
  .map((f) => ({ path: relative(ROOT, join(ROOT, f)), text: readFileSync(join(ROOT, f), "utf8") }));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = (heading[1] ?? "")
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

describe("citations of docs/", () => {
  it("name headings that exist", () => {
    const anchorsOf = new Map<string, Set<string>>();
    const broken: string[] = [];
    for (const { path, text } of files) {
      for (const match of text.matchAll(/docs\/([\w.-]+\.md)#([\w-]+)/g)) {
        const doc = match[1] ?? "";
        let anchors = anchorsOf.get(doc);
        if (!anchors) {
          anchors = headingAnchors(readFileSync(join(ROOT, "docs", doc), "utf8"));
          anchorsOf.set(doc, anchors);
        }
        if (!anchors.has(match[2] ?? "")) broken.push(`${path}: docs/${doc}#${match[2]}`);
      }
    }
    expect(broken).toEqual([]);
    // The scan found the citations it guards (a broken regex would pass on nothing).
    expect(anchorsOf.get("references.md")?.has("rolling-update-triggers")).toBe(true);
  });

  it("within docs/, name headings that exist (links like [x](#anchor) and [x](other.md#anchor))", () => {
    const broken: string[] = [];
    for (const { path, text } of files.filter((f) => f.path.startsWith("docs/"))) {
      for (const match of text.matchAll(/\]\(([\w.-]*\.md)?#([\w-]+)\)/g)) {
        const doc = match[1] ? join("docs", match[1]) : path;
        const anchors = headingAnchors(readFileSync(join(ROOT, doc), "utf8"));
        if (!anchors.has(match[2] ?? "")) broken.push(`${path}: ${match[0]}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("never point outside the repository", () => {
    // Spelled in pieces so that this file does not match itself.
    const outside = new RegExp(
      ["\\.\\./shared/", "/work/shared", "DESIGN\\.md", "REFERENCES\\.md"].join("|"),
    );
    const offending = files
      .filter((f) => f.path !== "test/docs/citations.test.ts")
      .flatMap(({ path, text }) =>
        text.split("\n").flatMap((line, i) => (outside.test(line) ? [`${path}:${i + 1}`] : [])),
      );
    expect(offending).toEqual([]);
  });
});

describe("headingAnchors", () => {
  it("makes GitHub's anchors", () => {
    const anchors = headingAnchors(
      "# How quorate is built\n## etcd JSON gateway\n### proto3 JSON\n```\n# not a heading\n```\n## Holding\n## Holding\n### `MinInstancesInService`, again!\n",
    );
    expect([...anchors]).toEqual([
      "how-quorate-is-built",
      "etcd-json-gateway",
      "proto3-json",
      "holding",
      "holding-1",
      "mininstancesinservice-again",
    ]);
  });
});
