// The local cloud's table of primary identifiers (GetTemplateSummary's
// ResourceIdentifiers) is the resource schemas' primaryIdentifier.
import { loadAwsServiceSpecSync } from "@aws-cdk/aws-service-spec";
import { describe, expect, it } from "vitest";
import {
  PRIMARY_IDENTIFIERS,
  SUPPORTED_TYPES,
} from "../../src/localcloud/cloudformation/resources/types.js";

describe("PRIMARY_IDENTIFIERS", () => {
  it("has every supported type, with the specification's primaryIdentifier", () => {
    const db = loadAwsServiceSpecSync();
    expect(Object.keys(PRIMARY_IDENTIFIERS).sort()).toEqual([...SUPPORTED_TYPES].sort());
    for (const [type, identifiers] of Object.entries(PRIMARY_IDENTIFIERS)) {
      const [resource] = db.lookup("resource", "cloudFormationType", "equals", type);
      expect((resource as { primaryIdentifier?: string[] }).primaryIdentifier, type).toEqual(
        identifiers,
      );
    }
  });
});
