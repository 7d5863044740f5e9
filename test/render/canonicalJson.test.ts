import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, sha256Hex } from "../../src/render/canonicalJson.js";

describe("canonicalJson", () => {
  it("sorts keys recursively, indents by two and ends with a newline", () => {
    const text = canonicalJson({ b: [{ z: 1, a: null }], a: { y: "x", "10": true, "2": false } });
    expect(text).toBe(
      '{\n  "a": {\n    "10": true,\n    "2": false,\n    "y": "x"\n  },\n  "b": [\n    {\n      "a": null,\n      "z": 1\n    }\n  ]\n}\n',
    );
  });

  it("writes empty containers inline and drops undefined properties", () => {
    expect(canonicalJson({ a: [], b: {}, c: undefined })).toBe('{\n  "a": [],\n  "b": {}\n}\n');
  });

  it("is the same JSON value as its input and independent of key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        const reordered = JSON.parse(text, (_key, v) =>
          v !== null && typeof v === "object" && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v).reverse())
            : v,
        );
        expect(canonicalJson(reordered)).toBe(text);
      }),
    );
  });
});

describe("sha256Hex", () => {
  it("hashes UTF-8 text", () => {
    expect(sha256Hex("abc")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });
});
