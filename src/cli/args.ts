// Argument parsing on node:util parseArgs, with usage errors that say what to do.
import { type ParseArgsConfig, parseArgs } from "node:util";
import { usage } from "../errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface ParsedArgs<O extends Options> {
  values: ReturnType<
    typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>
  >["values"];
  positionals: string[];
  help: boolean;
}

export function parseCommandArgs<O extends Options>(
  command: string,
  args: string[],
  options: O,
): ParsedArgs<O> {
  const help = args.includes("--help") || args.includes("-h");
  try {
    const parsed = parseArgs({
      args: args.filter((a) => a !== "--help" && a !== "-h"),
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: parsed.values, positionals: parsed.positionals, help };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw usage(`quorate ${command}: ${message}`, `see \`quorate ${command} --help\``);
  }
}

export function oneOf<T extends string>(
  command: string,
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw usage(`quorate ${command}: --${flag} must be one of ${allowed.join(", ")} (got ${value})`);
}
