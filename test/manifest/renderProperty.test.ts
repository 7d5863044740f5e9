import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { formatManifestError } from "../../src/manifest/manifestError.js";
import { parseManifests } from "../../src/manifest/parse.js";
import { renderStack } from "../../src/render/template.js";
import { renderUserData } from "../../src/render/userData.js";
import { validManifest } from "./arbitraryManifest.js";

describe("any schema-valid manifest", () => {
  it("validates, and renders without throwing, byte-identically twice", () => {
    fc.assert(
      fc.property(validManifest, (manifest) => {
        const result = parseManifests([{ file: "gen.yaml", text: stringify(manifest) }]);
        expect(result.errors.map(formatManifestError)).toEqual([]);
        const [spec] = result.clusters;
        if (!spec) throw new Error("no cluster parsed");
        const first = renderStack(spec, { imageId: "ami-0123456789abcdef0" });
        const second = renderStack(structuredClone(spec), { imageId: "ami-0123456789abcdef0" });
        expect(second.templateBody).toBe(first.templateBody);
        expect(second.templateSha256).toBe(first.templateSha256);
        expect(renderUserData(spec)).toBe(renderUserData(structuredClone(spec)));
        const group = first.template.Resources.EtcdGroup as any;
        expect(group.UpdatePolicy.AutoScalingRollingUpdate.MaxBatchSize).toBe(1);
        expect(group.Properties.MinSize).toBe(String(spec.size));
        // CloudFormation refuses a rolling update whose MinInstancesInService is not below MaxSize.
        const minInService = group.UpdatePolicy.AutoScalingRollingUpdate.MinInstancesInService;
        expect(minInService).toBeLessThan(Number(group.Properties.MaxSize));
      }),
      { numRuns: 300 },
    );
  });
});
