// The rules an operator reading the rendered stack asked for (issue 18): each
// refused manifest is named at FILE:LINE:COL with the reason and the way out.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { formatManifestError } from "../../src/manifest/manifestError.js";
import { parseManifests } from "../../src/manifest/parse.js";

const DEV = readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8");

function errorsOf(text: string): string[] {
  return parseManifests([{ file: "clusters/dev.yaml", text }]).errors.map(formatManifestError);
}

/** dev.yaml with one line replaced, so that positions stay those of the real file. */
function devWithLine(from: string, to: string): string {
  expect(DEV).toContain(from);
  return DEV.replace(from, to);
}

const lineOf = (text: string, needle: string) =>
  text.split("\n").findIndex((l) => l.includes(needle)) + 1;

describe("plaintext etcd open to the world is refused", () => {
  it.each(["0.0.0.0/0", "10.0.0.0/7", "128.0.0.0/1"])("refuses %s with TLS off", (cidr) => {
    const text = devWithLine("- 10.0.0.0/16 ", `- ${cidr} `);
    const line = lineOf(text, `- ${cidr}`);
    expect(errorsOf(text)).toEqual([
      `clusters/dev.yaml:${line}:9: spec.network.clientCidrs[0]: must not be wider than /8 while TLS is off (got ${cidr}): etcd without TLS has no authentication: anyone in ${cidr} could read and write every key. Turn TLS on (spec.etcd.tls.enabled: true and spec.etcd.tls.parameterPrefix: /quorate/<cluster>/ holding ca.crt, server.crt, server.key, peer.crt and peer.key in SSM), or narrow the CIDR to your clients' network`,
    ]);
  });

  it("accepts a /8 with TLS off, and 0.0.0.0/0 with TLS on", () => {
    expect(errorsOf(devWithLine("- 10.0.0.0/16 ", "- 10.0.0.0/8 "))).toEqual([]);
    const tls = devWithLine("- 10.0.0.0/16 ", "- 0.0.0.0/0 ").replace(
      "    version: 3.5.17 ",
      "    tls: { enabled: true, parameterPrefix: /quorate/dev/ }\n    version: 3.5.17 ",
    );
    expect(errorsOf(tls)).toEqual([]);
  });
});
