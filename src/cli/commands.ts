// The command table. Each entry's module owns its flags, help text and exit codes.
import { applyCommand } from "./apply.js";
import type { Command } from "./command.js";
import { demoCommand } from "./demo.js";
import { planCommand } from "./plan.js";
import { reconcileCommand } from "./reconcile.js";
import { renderCommand } from "./render.js";
import { runCommand } from "./run.js";
import { schemaCommand } from "./schema.js";
import { statusCommand } from "./status.js";
import { validateCommand } from "./validate.js";

export const COMMANDS: readonly Command[] = [
  validateCommand,
  renderCommand,
  planCommand,
  applyCommand,
  statusCommand,
  reconcileCommand,
  runCommand,
  demoCommand,
  schemaCommand,
];
