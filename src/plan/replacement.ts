// Replacement semantics shared by the change-set and the offline planners.
import type { Replacement } from "./model.js";

const SEVERITY: Record<Replacement, number> = {
  never: 0,
  conditional: 1,
  "unknown-after-apply": 2,
  always: 3,
};

/** The most severe replacement of a list ("never" for none). */
export function mostSevere(replacements: readonly Replacement[]): Replacement {
  let worst: Replacement = "never";
  for (const r of replacements) if (SEVERITY[r] > SEVERITY[worst]) worst = r;
  return worst;
}

/**
 * A change-set detail's replacement, as CloudFormation derives ResourceChange.Replacement:
 * RequiresRecreation Always with Evaluation Static is True, Always with Dynamic is Conditional,
 * Conditionally is Conditional, Never is False
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ResourceChange.html).
 * True with an after value not known yet is "unknown-after-apply".
 */
export function detailReplacement(
  requiresRecreation: string | undefined,
  evaluation: string | undefined,
  afterKnown: boolean,
): Replacement {
  if (requiresRecreation === "Always") {
    if (evaluation === "Dynamic") return "conditional";
    return afterKnown ? "always" : "unknown-after-apply";
  }
  return requiresRecreation === "Conditionally" ? "conditional" : "never";
}

/** Words for a replacement, as the formatters print it. */
export function replacementLabel(replacement: Replacement): string {
  switch (replacement) {
    case "always":
      return "replace";
    case "conditional":
    case "unknown-after-apply":
      return "may be replaced";
    case "never":
      return "in place";
  }
}
