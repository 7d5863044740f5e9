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

export interface DecimalBounds {
  min: number;
  max: number;
  /** An example for the message, such as 0.01. */
  example: string;
}

/** A plain decimal number (no exponent, hex or Infinity) within bounds, or undefined when absent. */
export function decimalFlag(
  flag: string,
  value: string | undefined,
  bounds: DecimalBounds,
): number | undefined {
  if (value === undefined) return undefined;
  const n = /^(?:\d+\.?\d*|\.\d+)$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= bounds.min && n <= bounds.max)) {
    throw usage(
      `--${flag} must be a decimal number from ${bounds.min} to ${bounds.max}, such as ${bounds.example} (got ${JSON.stringify(value)})`,
    );
  }
  return n;
}

/**
 * A dotted-quad IPv4 address in 127.0.0.0/8 (RFC 1122 3.2.1.3) with at least
 * one address after it, or undefined when absent. Strict: four decimal octets
 * without leading zeros, since inet_aton would read 0127 as octal.
 */
export function loopbackAddressFlag(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const octet = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
  const match = new RegExp(`^${octet}\\.${octet}\\.${octet}\\.${octet}$`).exec(value);
  const parts = match?.slice(1).map(Number) ?? [];
  const last = parts[0] === 127 && parts[1] === 255 && parts[2] === 255 && (parts[3] ?? 0) >= 254;
  if (!match || parts[0] !== 127 || last) {
    throw usage(
      `--${flag} must be an IPv4 loopback address in 127.0.0.0/8 with addresses after it, such as 127.0.1.0 (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/** An http(s) URL, or undefined when absent. */
export function httpUrlFlag(
  flag: string,
  value: string | undefined,
  example: string,
): string | undefined {
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw usage(
      `--${flag} must be an http(s) URL, such as ${example} (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}
