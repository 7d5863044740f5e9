// The command table. Each command's module is loaded only when it runs (or for
// --help), so that `quorate validate` does not pay for the AWS SDK or the local cloud.
import type { Command } from "./command.js";

export interface CommandEntry {
  name: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  { name: "validate", load: async () => (await import("./validate.js")).validateCommand },
  { name: "render", load: async () => (await import("./render.js")).renderCommand },
  { name: "plan", load: async () => (await import("./plan.js")).planCommand },
  { name: "apply", load: async () => (await import("./apply.js")).applyCommand },
  { name: "backup", load: async () => (await import("./backup.js")).backupCommand },
  { name: "backups", load: async () => (await import("./backups.js")).backupsCommand },
  { name: "restore", load: async () => (await import("./restore.js")).restoreCommand },
  { name: "maintain", load: async () => (await import("./maintain.js")).maintainCommand },
  { name: "status", load: async () => (await import("./status.js")).statusCommand },
  { name: "reconcile", load: async () => (await import("./reconcile.js")).reconcileCommand },
  { name: "run", load: async () => (await import("./run.js")).runCommand },
  { name: "demo", load: async () => (await import("./demo.js")).demoCommand },
  { name: "local", load: async () => (await import("./local.js")).localCommand },
  { name: "schema", load: async () => (await import("./schema.js")).schemaCommand },
];
