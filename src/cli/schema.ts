// quorate schema: the manifest's JSON Schema for editors, or its reference table.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { manifestReference, spliceReference } from "../manifest/reference.js";
import { clusterSchema } from "../manifest/schemaValidation.js";
import { parseCommandArgs } from "./args.js";
import type { Command } from "./command.js";
import { EXIT } from "./exitCodes.js";

const HELP = `Usage: quorate schema [--reference] [--update-readme FILE]

Prints the JSON Schema (draft 2020-12) of EtcdCluster manifests. Editors with
the YAML language server use it through a first line such as
  # yaml-language-server: $schema=../schemas/cluster.schema.json

Options:
  --reference            print the manifest reference as a Markdown table instead
  --update-readme FILE   rewrite the generated reference block inside FILE
  -h, --help             show this help

Exit codes:
  0   printed (or FILE updated)
  1   FILE has no reference markers
  64  usage error
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
      writeFileSync(path, spliceReference(readFileSync(path, "utf8"), manifestReference(schema)));
      ctx.stdout.write(`updated the manifest reference in ${target}\n`);
    } else if (values.reference) {
      ctx.stdout.write(`${manifestReference(schema)}\n`);
    } else {
      ctx.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    }
    return EXIT.ok;
  },
};
