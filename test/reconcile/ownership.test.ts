// Which stacks a quorate may act on, by their tags and its owner name.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_OWNER,
  OWNER_PATTERN,
  ownershipProblem,
  stackOwnership,
} from "../../src/reconcile/ownership.js";
import { STACK_TAG } from "../../src/render/contract.js";

const quorate = { [STACK_TAG.managedBy]: "quorate" };

describe("stackOwnership", () => {
  it.each([
    {
      given: "no tags",
      tags: {} as Record<string, string>,
      owner: "default",
      want: { kind: "not-quorate" },
    },
    {
      given: "another tool's managed-by value",
      tags: { [STACK_TAG.managedBy]: "terraform", [STACK_TAG.owner]: "default" },
      owner: "default",
      want: { kind: "not-quorate" },
    },
    {
      given: "quorate's tags without an owner (applied before owners existed)",
      tags: quorate,
      owner: DEFAULT_OWNER,
      want: { kind: "ours" },
    },
    {
      given: "quorate's tags without an owner, read by a named owner",
      tags: quorate,
      owner: "team-a",
      want: { kind: "other-owner", owner: "default" },
    },
    {
      given: "the same owner",
      tags: { ...quorate, [STACK_TAG.owner]: "team-a" },
      owner: "team-a",
      want: { kind: "ours" },
    },
    {
      given: "another owner",
      tags: { ...quorate, [STACK_TAG.owner]: "team-b" },
      owner: "team-a",
      want: { kind: "other-owner", owner: "team-b" },
    },
  ])("GIVEN $given and owner $owner THEN $want.kind", ({ tags, owner, want }) => {
    expect(stackOwnership(tags, owner)).toEqual(want);
  });
});

describe("ownershipProblem", () => {
  it("GIVEN our own stack THEN there is none", () => {
    expect(ownershipProblem({ stackName: "s", tags: quorate }, DEFAULT_OWNER)).toBeUndefined();
  });

  it("GIVEN a stack quorate did not create THEN it says so and what to do", () => {
    expect(ownershipProblem({ stackName: "quorate-dev", tags: {} }, "team-a")).toBe(
      "stack quorate-dev exists but quorate did not create it (no quorate.dev:managed-by tag); rename spec.stackName or import it by hand",
    );
  });

  it("GIVEN another owner's stack THEN it names both owners and both ways out", () => {
    const tags = { ...quorate, [STACK_TAG.owner]: "team-b" };
    expect(ownershipProblem({ stackName: "quorate-dev", tags }, "team-a")).toBe(
      'stack quorate-dev belongs to the quorate with owner "team-b" (tag quorate.dev:owner), not to this one (owner "team-a"): two repositories declare the same stack. Rename spec.stackName in one of them, or run this quorate with --owner team-b if it is meant to manage that stack',
    );
  });
});

describe("OWNER_PATTERN", () => {
  it.each(["default", "a", "team-a", "platform.prod", "eu_west_1", "x".repeat(63)])(
    "accepts %s",
    (name) => expect(OWNER_PATTERN.test(name)).toBe(true),
  );
  it.each(["", "Team", "-a", "a-", "a b", "a/b", "x".repeat(64)])("refuses %j", (name) =>
    expect(OWNER_PATTERN.test(name)).toBe(false),
  );
});
