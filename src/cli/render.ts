// quorate render <NAME|FILE>: the CloudFormation template (or the defaulted
// spec, or the user-data) that a manifest stands for. Byte-identical per input.
import { stringify } from "yaml";
import { resolveEndpoint } from "../aws/clients.js";
import { usage } from "../errors.js";
import { loadManifests } from "../manifest/load.js";
import { canonicalJson } from "../render/canonicalJson.js";
import { renderStack } from "../render/template.js";
import { renderUserData } from "../render/userData.js";
import { oneOf, parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import { AWS_FLAGS, AWS_FLAGS_HELP, amiFeedFor, isManifestFileArg, pickCluster } from "./common.js";
import { EXIT, exitCodeHelp } from "./exitCodes.js";

const HELP = `Usage: quorate render <NAME|FILE> [--path DIR] [--output template|spec|user-data|tags]

Prints what a manifest stands for, byte-identical for the same input:
  template    the CloudFormation template JSON (default); its sha256 is the
              template hash quorate compares against the live stack's tag
  spec        the manifest with every default filled in, as YAML
  user-data   the instance user-data (Ignition JSON or cloud-config)
  tags        the stack tags (without the git revision tag added at apply)

NAME is a cluster's metadata.name found under --path (default: clusters/);
FILE is a manifest file holding one cluster (dev.yaml, ./clusters/dev.yaml or
an absolute path).

Options:
  --path DIR           where manifests live (default: clusters)
  --output KIND        template, spec, user-data or tags (default: template)
${AWS_FLAGS_HELP}
  -h, --help           show this help

${exitCodeHelp("render")}
`;

export const renderCommand: Command = {
  name: "render",
  summary: "print the CloudFormation template a manifest renders to",
  help: HELP,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs("render", args, {
      ...AWS_FLAGS,
      path: { type: "string" },
      output: { type: "string" },
    });
    const output = oneOf(
      "output",
      values.output,
      ["template", "spec", "user-data", "tags"] as const,
      "template",
    );
    const [target] = positionals;
    if (!target || positionals.length > 1) {
      throw usage("name exactly one cluster or manifest file", "see `quorate render --help`");
    }
    const isFile = isManifestFileArg(target, ctx.cwd);
    // Only the named cluster must be valid to render it; errors elsewhere are not its business.
    const loaded = await loadManifests(isFile ? [target] : [values.path ?? "clusters"], ctx.cwd);
    const spec = pickCluster(loaded, target, ctx);
    if (output === "spec") {
      const { source: _source, ...rest } = spec;
      ctx.stdout.write(stringify(rest, { sortMapEntries: true }));
      return EXIT.ok;
    }
    if (output === "user-data") {
      ctx.stdout.write(renderUserData(spec));
      return EXIT.ok;
    }
    const endpoint = resolveEndpoint(
      {
        ...(values.local ? { local: true } : {}),
        ...(values.endpoint ? { endpoint: values.endpoint } : {}),
      },
      ctx.env,
    );
    const imageId = await amiFeedFor(values, endpoint, ctx).resolve(spec);
    const rendered = renderStack(spec, { imageId });
    ctx.stdout.write(output === "tags" ? canonicalJson(rendered.tags) : rendered.templateBody);
    return EXIT.ok;
  },
};
