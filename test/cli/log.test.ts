// The daemon's structured logger: JSON lines vs text lines, levels, BigInt and
// Error fields, and rollout events as log lines.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, type LoggerOptions } from "../../src/cli/log.js";
import { eventLogger, logPass } from "../../src/cli/passLog.js";
import { terminal } from "../../src/errors.js";

class Lines extends Writable {
  text = "";
  isTTY?: boolean;
  constructor(tty?: boolean) {
    super();
    if (tty !== undefined) this.isTTY = tty;
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const NOW = () => new Date("2025-03-01T12:01:03.250Z");

function logger(options: Partial<LoggerOptions> & { tty?: boolean } = {}) {
  const stream = new Lines(options.tty);
  return { stream, log: createLogger({ now: NOW, ...options, stream }) };
}

describe("createLogger", () => {
  it("writes JSON lines with time, level, msg first and the fields after; BigInt as decimal strings", () => {
    const { stream, log } = logger({ format: "json" });
    log.info("member promoted", {
      cluster: "dev",
      memberId: 18_446_744_073_709_551_615n,
      index: 42,
    });
    const line = stream.text;
    expect(line.endsWith("\n")).toBe(true);
    expect(line.split("\n")).toHaveLength(2);
    expect(JSON.parse(line)).toEqual({
      time: "2025-03-01T12:01:03.250Z",
      level: "info",
      msg: "member promoted",
      cluster: "dev",
      memberId: "18446744073709551615",
      index: 42,
    });
    expect(Object.keys(JSON.parse(line)).slice(0, 3)).toEqual(["time", "level", "msg"]);
  });

  it("keeps nested BigInt safe, writes errors as their message and hint, and never lets a field replace msg", () => {
    const { stream, log } = logger({ format: "json" });
    log.error("pass failed", {
      msg: "overwritten?",
      ids: [1n, 2n],
      error: terminal("stack is UPDATE_ROLLBACK_FAILED", "continue the rollback by hand"),
      skipped: undefined,
    });
    expect(JSON.parse(stream.text)).toEqual({
      time: "2025-03-01T12:01:03.250Z",
      level: "error",
      msg: "pass failed",
      ids: ["1", "2"],
      error: "stack is UPDATE_ROLLBACK_FAILED: continue the rollback by hand",
    });
  });

  it("writes text lines a person reads: time, padded level, message, key=value", () => {
    const { stream, log } = logger({ format: "text" });
    log.info("pass done", { revision: "0123456789ab", clusters: 3, ok: true, id: 7n });
    log.warn("source unavailable", { reason: "fetch-failed", message: "could not resolve host" });
    log.error("empty", { value: "", list: ["a", "b"] });
    expect(stream.text).toBe(
      [
        "12:01:03 INFO  pass done revision=0123456789ab clusters=3 ok=true id=7",
        '12:01:03 WARN  source unavailable reason=fetch-failed message="could not resolve host"',
        '12:01:03 ERROR empty value="" list="[\\"a\\",\\"b\\"]"',
        "",
      ].join("\n"),
    );
  });

  it.each([
    [true, "text"],
    [false, "json"],
    [undefined, "json"],
  ] as const)("auto on a stream with isTTY=%s writes %s", (tty, format) => {
    const { stream, log } = logger({ format: "auto", ...(tty !== undefined ? { tty } : {}) });
    log.info("hello");
    expect(stream.text.startsWith("{")).toBe(format === "json");
  });

  it("drops lines below the level (default info)", () => {
    const quiet = logger({ format: "text" });
    quiet.log.debug("noise");
    quiet.log.info("kept");
    expect(quiet.stream.text).toBe("12:01:03 INFO  kept\n");
    const loud = logger({ format: "text", level: "debug" });
    loud.log.debug("noise");
    expect(loud.stream.text).toBe("12:01:03 DEBUG noise\n");
    const errorsOnly = logger({ format: "text", level: "error" });
    errorsOnly.log.warn("dropped");
    expect(errorsOnly.stream.text).toBe("");
  });

  it("child loggers add their fields to every line", () => {
    const { stream, log } = logger({ format: "text" });
    log.child({ cluster: "dev" }).info("applied", { revision: "abc" });
    expect(stream.text).toBe("12:01:03 INFO  applied cluster=dev revision=abc\n");
  });
});

describe("eventLogger", () => {
  it("logs rollout events member by member, errors and held hooks louder", () => {
    const { stream, log } = logger({ format: "json" });
    const onEvent = eventLogger(log);
    onEvent({
      at: "2025-03-01T12:01:00Z",
      cluster: "dev",
      type: "learner-added",
      instanceId: "i-0abc",
      memberId: "8e9e05c52164694d",
      message: "joined as learner (peer http://10.0.0.5:2380)",
    });
    onEvent({ at: "2025-03-01T12:01:01Z", cluster: "dev", type: "hook-held", message: "held" });
    onEvent({
      at: "2025-03-01T12:01:02Z",
      cluster: "dev",
      type: "error",
      message: "observing failed",
    });
    const lines = stream.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        time: "2025-03-01T12:01:03.250Z",
        level: "info",
        msg: "joined as learner (peer http://10.0.0.5:2380)",
        cluster: "dev",
        event: "learner-added",
        instance: "i-0abc",
        member: "8e9e05c52164694d",
      },
      {
        time: "2025-03-01T12:01:03.250Z",
        level: "warn",
        msg: "held",
        cluster: "dev",
        event: "hook-held",
      },
      {
        time: "2025-03-01T12:01:03.250Z",
        level: "error",
        msg: "observing failed",
        cluster: "dev",
        event: "error",
      },
    ]);
  });

  it("logs automatic defragmentations with their result, and one that did not get done as a warning", () => {
    const { stream, log } = logger({ format: "json" });
    const onEvent = eventLogger(log);
    const defrag = { at: "2025-03-01T12:01:00Z", cluster: "dev", type: "defrag" } as const;
    onEvent({ ...defrag, memberId: "8e9e05c52164694d", message: "defragmenting i-1" });
    onEvent({ ...defrag, message: "done", defragResult: "done" });
    onEvent({ ...defrag, message: "gave way", defragResult: "gate-blocked" });
    onEvent({ ...defrag, message: "failed", defragResult: "failed" });
    const lines = stream.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.level, l.event, l.result])).toEqual([
      ["info", "defrag", undefined],
      ["info", "defrag", "done"],
      ["warn", "defrag", "gate-blocked"],
      ["warn", "defrag", "failed"],
    ]);
  });
});

describe("logPass", () => {
  it("logs one line per pass with counts per result, and warns when the source did not sync", () => {
    const { stream, log } = logger({ format: "text" });
    logPass(log, {
      revision: "0123456789abcdef0123456789abcdef01234567",
      source: {
        repo: "acme/infra",
        ok: false,
        reason: "fetch-failed",
        message: "could not resolve host",
        revision: "0123456789abcdef0123456789abcdef01234567",
      },
      startedAt: "2025-03-01T12:01:00Z",
      durationMs: 420,
      clusters: [
        { cluster: "a", action: "none", outcome: "ready" },
        { cluster: "b", action: "none", outcome: "ready" },
        { cluster: "c", action: "apply" },
        { cluster: "d", action: "stall", outcome: "stalled" },
      ],
    });
    expect(stream.text).toBe(
      [
        '12:01:03 WARN  git source not synced; reconciling the last good revision repo=acme/infra reason=fetch-failed message="could not resolve host" revision=0123456789ab',
        "12:01:03 INFO  reconcile pass done revision=0123456789ab durationMs=420 clusters=4 apply-started=1 ready=2 stalled=1",
        "",
      ].join("\n"),
    );
  });
});
