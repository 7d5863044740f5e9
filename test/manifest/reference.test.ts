import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { manifestReference, REFERENCE_BEGIN, REFERENCE_END } from "../../src/manifest/reference.js";
import { clusterSchema } from "../../src/manifest/schemaValidation.js";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("the README's manifest reference", () => {
  it("is exactly what the schema generates (run `./bin/quorate schema --update-readme README.md`)", () => {
    const begin = README.indexOf(REFERENCE_BEGIN) + REFERENCE_BEGIN.length;
    const end = README.indexOf(REFERENCE_END);
    expect(README.slice(begin, end).trim()).toBe(manifestReference(clusterSchema()));
  });

  it("lists every field of the schema with its description", () => {
    const reference = manifestReference(clusterSchema());
    for (const field of [
      "spec.size",
      "spec.updatePolicy.signalTimeout",
      "spec.gates.stableFor",
      "spec.etcd.dataVolume.iops",
    ]) {
      expect(reference).toContain(`| \`${field}\``);
    }
  });
});

describe("the schema, for editors", () => {
  it("describes every field, and gives a default wherever the field is optional and has one", () => {
    const missing: string[] = [];
    const visit = (node: any, path: string) => {
      for (const [name, child] of Object.entries<any>(node.properties ?? {})) {
        if (!child.description) missing.push(`${path}${name}`);
        visit(child, `${path}${name}.`);
      }
    };
    visit(clusterSchema(), "");
    expect(missing).toEqual([]);
  });
});
