// quorate schema: the manifest's JSON Schema for editors, or its reference table.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { manifestReference, spliceReference } from "../manifest/reference.js";
import { clusterSchema } from "../manifest/schemaValidation.js";
import { parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import { EXIT, exitCodeHelp } from "./exitCodes.js";

const HELP = `Usage: quorate schema [--reference] [--update-readme FILE]

Prints the JSON Schema (draft 2020-12) of EtcdCluster manifests. Editors with
the YAML language server use it through a first line such as
  # yaml-language-server: $schema=../schemas/cluster.schema.json

Options:
  --reference            print the manifest reference as a Markdown table instead
  --update-readme FILE   rewrite the generated reference block inside FILE
  -h, --help             show this help

${exitCodeHelp("schema")}
`;

export const schemaCommand: Command = {
  name: "schema",
  summary: "print the manifest JSON Schema (or its reference table)",
  help: HELP,
  async run(args, ctx) {
    const { values } = parseCommandArgs("schema", args, {
      reference: { type: "boolean" },
      "update-readme": { type: "string" },
    });
    const schema = clusterSchema();
    const target = values["update-readme"];
    if (target) {
      const path = join(ctx.cwd, target);
      const before = readFileSync(path, "utf8");
      const after = spliceReference(before, manifestReference(schema));
      if (after === before) {
        ctx.stdout.write(`the manifest reference in ${target} is up to date\n`);
      } else {
        writeFileSync(path, after);
        ctx.stdout.write(`updated the manifest reference in ${target}\n`);
      }
    } else if (values.reference) {
      ctx.stdout.write(`${manifestReference(schema)}\n`);
    } else {
      ctx.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    }
    return EXIT.ok;
  },
};
