// Ref and Fn::GetAtt against a stack's live resources (physical ids and
// attributes), and the stack outputs resolved with them.
import type { StackRecord } from "../state/model.js";
import { type IntrinsicContext, resolveValue } from "./intrinsics.js";
import type { Template } from "./template.js";

/** Ref and Fn::GetAtt against the stack's live resources. */
export function liveContext(stack: StackRecord): IntrinsicContext {
  const params = new Map(stack.parameters.map((p) => [p.key, p.value]));
  return {
    stackName: stack.stackName,
    stackId: stack.stackId,
    region: stack.region,
    ref(name) {
      const param = params.get(name);
      if (param !== undefined) return param;
      const physicalId = stack.resources[name]?.physicalId;
      if (physicalId === undefined)
        throw new Error(`Ref ${name}: the resource has no physical id yet`);
      return physicalId;
    },
    getAtt(logicalId, attribute) {
      const value = stack.resources[logicalId]?.attributes[attribute];
      if (value === undefined) {
        throw new Error(
          `Template error: resource ${logicalId} does not support attribute type ${attribute} in Fn::GetAtt`,
        );
      }
      return value;
    },
  };
}

export function computeOutputs(stack: StackRecord, template: Template): StackRecord["outputs"] {
  const ctx = liveContext(stack);
  return Object.entries(template.outputs).map(([key, output]) => {
    const value = resolveValue(output.Value, ctx);
    const out: StackRecord["outputs"][number] = {
      key,
      value: Array.isArray(value) ? value.join(",") : String(value ?? ""),
    };
    if (output.Description) out.description = output.Description;
    return out;
  });
}
