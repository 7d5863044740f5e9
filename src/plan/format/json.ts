// The plan as JSON for scripts. The shape is versioned: a change that removes or
// renames a field, or changes a value's meaning, bumps schemaVersion; adding a
// field does not. Documented in docs/plan-json.md.
//
// {
//   "schemaVersion": 1,
//   "source": "change-set" | "offline",
//   "revision"?: string, "baseRevision"?: string, "generatedAt"?: string,
//   "summary": { "toRoll", "changed", "unchanged", "orphaned", "skipped", "errors" },
//   "hasChanges": boolean,            // what --detailed-exitcode reports as 2
//   "clusters": ClusterPlan[]         // as in src/plan/model.ts
// }
import { hasChanges, type Plan, type PlanSummary, summarize } from "../model.js";

export const PLAN_JSON_SCHEMA_VERSION = 1;

export interface PlanJson extends Omit<Plan, "clusters"> {
  schemaVersion: typeof PLAN_JSON_SCHEMA_VERSION;
  summary: PlanSummary;
  hasChanges: boolean;
  clusters: Plan["clusters"];
}

export function planJson(plan: Plan): PlanJson {
  const out: PlanJson = {
    schemaVersion: PLAN_JSON_SCHEMA_VERSION,
    source: plan.source,
    summary: summarize(plan),
    hasChanges: plan.clusters.some(hasChanges),
    clusters: plan.clusters,
  };
  if (plan.revision !== undefined) out.revision = plan.revision;
  if (plan.baseRevision !== undefined) out.baseRevision = plan.baseRevision;
  if (plan.generatedAt !== undefined) out.generatedAt = plan.generatedAt;
  return out;
}

/** Two-space indented JSON with a trailing newline; key order is fixed by the model's builders. */
export function formatJson(plan: Plan): string {
  const { clusters, ...rest } = planJson(plan);
  return `${JSON.stringify({ ...rest, clusters }, null, 2)}\n`;
}
