// ValidateTemplate and GetTemplateSummary: what a template declares, after the
// same checks CreateChangeSet makes (template.ts), in the SDK's output shapes.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ValidateTemplate.html
// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplateSummary.html
import type {
  GetTemplateSummaryInput,
  GetTemplateSummaryOutput,
  ParameterDeclaration,
  ResourceIdentifierSummary,
  TemplateParameter,
  ValidateTemplateInput,
  ValidateTemplateOutput,
} from "@aws-sdk/client-cloudformation";
import { validationError } from "../protocol/awsError.js";
import type { World } from "../world.js";
import { PRIMARY_IDENTIFIERS } from "./resources/types.js";
import { requireStack } from "./stacks.js";
import {
  type TemplateParameter as Declared,
  requiredCapabilities,
  type Template,
} from "./template.js";
import { templateOf } from "./templateCache.js";

/** The body of a request that names its template by TemplateBody (TemplateURL is not served). */
function bodyOf(input: { TemplateBody?: string; TemplateURL?: string }): string {
  if (input.TemplateBody) return input.TemplateBody;
  if (input.TemplateURL) {
    throw validationError(
      "TemplateURL is not supported by the quorate local cloud: pass the template as TemplateBody",
    );
  }
  throw validationError("Either Template URL or Template Body must be specified.");
}

function capabilitiesOf(
  template: Template,
): Pick<ValidateTemplateOutput, "Capabilities" | "CapabilitiesReason"> {
  const required = requiredCapabilities(template);
  if (!required) return { Capabilities: [] };
  return {
    Capabilities: [required.capability],
    CapabilitiesReason: `The following resource(s) require capabilities: [${required.resourceTypes.join(", ")}]`,
  };
}

const defaultOf = (p: Declared) =>
  p.Default === undefined ? {} : { DefaultValue: String(p.Default) };
const noEcho = (p: Declared) => p.NoEcho === true || String(p.NoEcho).toLowerCase() === "true";

export function validateTemplate(input: ValidateTemplateInput): ValidateTemplateOutput {
  const template = templateOf(bodyOf(input));
  const parameters: TemplateParameter[] = Object.entries(template.parameters).map(([key, p]) => ({
    ParameterKey: key,
    ...defaultOf(p),
    NoEcho: noEcho(p),
    ...(p.Description === undefined ? {} : { Description: p.Description }),
  }));
  return {
    Parameters: parameters,
    ...(template.description === undefined ? {} : { Description: template.description }),
    ...capabilitiesOf(template),
    DeclaredTransforms: [],
  };
}

export function getTemplateSummary(
  world: World,
  input: GetTemplateSummaryInput,
  region: string,
): GetTemplateSummaryOutput {
  const sources = [input.StackName, input.TemplateBody, input.TemplateURL, input.StackSetName];
  if (sources.filter((s) => s !== undefined && s !== "").length !== 1) {
    throw validationError(
      "Specify exactly one of TemplateBody, TemplateURL, StackName or StackSetName",
    );
  }
  if (input.StackSetName) {
    throw validationError(
      "Stack sets are not supported by the quorate local cloud: give StackName or TemplateBody",
    );
  }
  let body: string;
  if (input.StackName) {
    const stack = requireStack(world, input.StackName, region);
    if (stack.templateBody === undefined) {
      // A stack still in REVIEW_IN_PROGRESS has no template of its own yet.
      throw validationError(`Stack with id ${input.StackName} does not have a template`);
    }
    body = stack.templateBody;
  } else {
    body = bodyOf(input);
  }
  const template = templateOf(body);
  const parameters: ParameterDeclaration[] = Object.entries(template.parameters).map(
    ([key, p]) => ({
      ParameterKey: key,
      ...defaultOf(p),
      ParameterType: p.Type,
      NoEcho: noEcho(p),
      ...(p.Description === undefined ? {} : { Description: p.Description }),
      ParameterConstraints: p.AllowedValues ? { AllowedValues: p.AllowedValues.map(String) } : {},
    }),
  );
  const byType = new Map<string, string[]>();
  for (const [logicalId, resource] of Object.entries(template.resources)) {
    byType.set(resource.Type, [...(byType.get(resource.Type) ?? []), logicalId]);
  }
  const identifiers: ResourceIdentifierSummary[] = [...byType]
    .filter(([type]) => PRIMARY_IDENTIFIERS[type])
    .map(([type, logicalIds]) => ({
      ResourceType: type,
      LogicalResourceIds: logicalIds,
      ResourceIdentifiers: [...(PRIMARY_IDENTIFIERS[type] ?? [])],
    }));
  return {
    Parameters: parameters,
    ...(template.description === undefined ? {} : { Description: template.description }),
    ...capabilitiesOf(template),
    ResourceTypes: [...byType.keys()],
    Version: template.formatVersion ?? "2010-09-09",
    ...(template.metadata === undefined ? {} : { Metadata: JSON.stringify(template.metadata) }),
    DeclaredTransforms: [],
    ResourceIdentifierSummaries: identifiers,
  };
}
