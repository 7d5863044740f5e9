// A small structured logger, for the daemon and for every command's stop lines:
// JSON lines for journald and log shippers, readable text lines on a terminal.
// Fields are plain key/values; BigInt (etcd member ids, raft indexes) and Error
// values are written safely.
import type { Writable } from "node:stream";
import { describeError } from "../errors.js";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "json" | "text" | "auto";
export type LogFields = Record<string, unknown>;

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (a cluster name, say). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  stream: Writable & { isTTY?: boolean };
  /** auto: text on a terminal, JSON lines otherwise (default). */
  format?: LogFormat;
  /** Lines below this level are dropped (default info). */
  level?: LogLevel;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  const format = resolveFormat(options.format ?? "auto", options.stream);
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const now = options.now ?? (() => new Date());
  const make = (base: LogFields): Logger => {
    const write =
      (level: LogLevel) =>
      (msg: string, fields: LogFields = {}) => {
        if (LOG_LEVELS.indexOf(level) < threshold) return;
        const line = { time: now(), level, msg, fields: { ...base, ...fields } };
        options.stream.write(format === "json" ? jsonLine(line) : textLine(line));
      };
    return {
      debug: write("debug"),
      info: write("info"),
      warn: write("warn"),
      error: write("error"),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make({});
}

export function resolveFormat(format: LogFormat, stream: { isTTY?: boolean }): "json" | "text" {
  if (format !== "auto") return format;
  return stream.isTTY ? "text" : "json";
}

interface LogLine {
  time: Date;
  level: LogLevel;
  msg: string;
  fields: LogFields;
}

/** `{"time":"...","level":"info","msg":"...",...fields}`; fields never overwrite the three keys. */
export function jsonLine(line: LogLine): string {
  const record: LogFields = {};
  for (const [key, value] of Object.entries(line.fields)) {
    if (value !== undefined && key !== "time" && key !== "level" && key !== "msg")
      record[key] = value;
  }
  return `${JSON.stringify({ time: line.time.toISOString(), level: line.level, msg: line.msg, ...record }, replacer)}\n`;
}

/** `12:01:03 INFO  msg key=value ...`, the time in UTC like the rollout event lines. */
export function textLine(line: LogLine): string {
  const time = line.time.toISOString().slice(11, 19);
  const pairs = Object.entries(line.fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => ` ${key}=${textValue(value)}`)
    .join("");
  return `${time} ${line.level.toUpperCase().padEnd(5)} ${line.msg}${pairs}\n`;
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return describeError(value);
  return value;
}

function textValue(value: unknown): string {
  const plain =
    typeof value === "string"
      ? value
      : value instanceof Error
        ? describeError(value)
        : typeof value === "bigint" || typeof value === "number" || typeof value === "boolean"
          ? String(value)
          : JSON.stringify(value, replacer);
  // Quote only what would not read back as one token.
  return plain === "" || /[\s"=]/.test(plain) ? JSON.stringify(plain) : plain;
}
