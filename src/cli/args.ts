// Argument parsing on node:util parseArgs, with usage errors that say what to do.
// Every value is checked here, at parse time: a flag out of range is a usage
// error (exit 64) naming the flag, the value and what is allowed, never a hang
// or a silent default later. Messages carry no "quorate <command>:" prefix;
// main.ts adds it once.
import { type ParseArgsConfig, parseArgs } from "node:util";
import { usage } from "../errors.js";
import { parseIsoDuration } from "../manifest/duration.js";

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
    throw usage(message, `see \`quorate ${command} --help\``);
  }
}

export function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw usage(`--${flag} must be one of ${allowed.join(", ")} (got ${JSON.stringify(value)})`);
}

export interface IntegerBounds {
  min: number;
  max: number;
  /** What the number counts, for the message ("clusters at once"). */
  unit?: string;
}

/** A whole number within bounds, or undefined when the flag is absent. */
export function integerFlag(
  flag: string,
  value: string | undefined,
  bounds: IntegerBounds,
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < bounds.min || n > bounds.max) {
    throw usage(
      `--${flag} must be a whole number from ${bounds.min} to ${bounds.max}${bounds.unit ? ` (${bounds.unit})` : ""} (got ${JSON.stringify(value)})`,
    );
  }
  return n;
}

export interface DurationBounds {
  minMs: number;
  maxMs?: number;
  /** An example for the message, such as PT3M. */
  example: string;
}

/** An ISO 8601 duration (PT#H#M#S) within bounds, in ms, or undefined when absent. */
export function durationFlag(
  flag: string,
  value: string | undefined,
  bounds: DurationBounds,
): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseIsoDuration(value);
  const max = bounds.maxMs ?? Number.POSITIVE_INFINITY;
  if (ms === undefined || ms < bounds.minMs || ms > max) {
    const range =
      bounds.maxMs === undefined
        ? `of at least ${isoOf(bounds.minMs)}`
        : `from ${isoOf(bounds.minMs)} to ${isoOf(bounds.maxMs)}`;
    throw usage(
      `--${flag} must be an ISO 8601 duration ${range}, such as ${bounds.example} (got ${JSON.stringify(value)})`,
    );
  }
  return ms;
}

function isoOf(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return `PT${h ? `${h}H` : ""}${m ? `${m}M` : ""}${rest || (!h && !m) ? `${rest}S` : ""}`;
}
