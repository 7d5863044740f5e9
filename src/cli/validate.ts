// quorate validate [PATH...]: schema + semantic rules over every manifest, all errors in one run.

import { loadManifests } from "../manifest/load.js";
import { formatManifestErrors } from "../manifest/parse.js";
import { terminateFirstCost } from "../plan/specWarnings.js";
import { oneOf, parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import { EXIT, exitCodeHelp } from "./exitCodes.js";

const HELP = `Usage: quorate validate [PATH...] [--format text|json]

Validates cluster manifests (files, or directories searched recursively for
*.yaml and *.yml; default: clusters/) against schemas/cluster.schema.json and
the rules a schema cannot express (unique names and stack names, odd sizes,
minInstancesInService <= size-1, signal timeout <= PT1H, etcd >= 3.4, ...).
Every error of every file is reported in one run, as
  FILE:LINE:COL: field.path: what is wrong (got X): why it matters / what to do

Options:
  --format text|json   json prints {"valid", "clusters", "errors"} for scripts (default: text)
  -h, --help           show this help

${exitCodeHelp("validate")}
`;

export const validateCommand: Command = {
  name: "validate",
  summary: "check manifests against the schema and quorate's rules",
  help: HELP,
  async run(args, ctx) {
    const { values, positionals } = parseCommandArgs("validate", args, {
      format: { type: "string" },
    });
    const format = oneOf("format", values.format, ["text", "json"] as const, "text");
    const paths = positionals.length > 0 ? positionals : ["clusters"];
    const loaded = await loadManifests(paths, ctx.cwd);
    const empty = loaded.files.length === 0 && loaded.errors.length === 0;
    const errors = empty
      ? [
          {
            file: paths.join(" "),
            line: 1,
            column: 1,
            path: "",
            problem: "no manifests found",
            hint: "quorate reads *.yaml and *.yml files; pass a file or a directory that holds some",
            rule: "file.none",
          },
        ]
      : loaded.errors;
    const valid = errors.length === 0;
    for (const warning of loaded.warnings) ctx.stderr.write(`warning: ${warning}\n`);
    for (const c of loaded.clusters.filter((c) => c.updatePolicy.order === "terminateFirst")) {
      const where = `${c.source.file}:${c.source.line}:${c.source.column}`;
      ctx.stderr.write(`warning: ${where}: cluster ${c.name}: ${terminateFirstCost(c.size)}\n`);
    }
    if (format === "json") {
      const clusters = loaded.clusters.map((c) => ({
        name: c.name,
        stackName: c.stackName,
        file: c.source.file,
        line: c.source.line,
      }));
      ctx.stdout.write(`${JSON.stringify({ valid, clusters, errors }, null, 2)}\n`);
    } else if (valid) {
      const names = loaded.clusters.map((c) => c.name).join(", ");
      ctx.stdout.write(
        `${loaded.clusters.length} cluster(s) valid in ${loaded.files.length} file(s): ${names}\n`,
      );
    } else {
      ctx.stderr.write(formatManifestErrors(errors));
      const files = new Set(errors.map((e) => e.file)).size;
      ctx.stderr.write(`${errors.length} error(s) in ${files} file(s)\n`);
    }
    return valid ? EXIT.ok : EXIT.error;
  },
};
