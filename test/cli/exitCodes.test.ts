// One exit-code table (src/cli/exitCodes.ts): the README's table is generated
// from it (UPDATE_GOLDEN=1 rewrites the block), and every command's --help and
// the outcome maps read the same codes.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/commands.js";
import {
  APPLY_EXIT,
  EXIT,
  EXIT_MEANINGS,
  exitCodeMarkdown,
  NOT_READY_EXIT,
  worstExit,
} from "../../src/cli/exitCodes.js";
import { REASON } from "../../src/reconcile/conditions.js";

const README = new URL("../../README.md", import.meta.url);
const BEGIN = "<!-- exit-codes:begin (generated from src/cli/exitCodes.ts) -->";
const END = "<!-- exit-codes:end -->";

function readmeBlock(text: string): { before: string; block: string; after: string } {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) throw new Error("README.md lacks the exit-codes markers");
  return {
    before: text.slice(0, begin + BEGIN.length),
    block: text.slice(begin + BEGIN.length, end).trim(),
    after: text.slice(end),
  };
}

describe("the exit-code table", () => {
  it("is the README's table, row for row", () => {
    if (process.env.UPDATE_GOLDEN) {
      const { before, after } = readmeBlock(readFileSync(README, "utf8"));
      writeFileSync(README, `${before}\n${exitCodeMarkdown()}\n${after}`);
    }
    const { block } = readmeBlock(readFileSync(README, "utf8"));
    expect(block).toBe(exitCodeMarkdown());
    // And the rows are the codes of EXIT, each once.
    const codes = [...block.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(codes).toEqual([...new Set(Object.values(EXIT))].sort((a, b) => a - b));
  });

  it("gives every command's --help an exit-code block whose codes all have a meaning", async () => {
    for (const entry of COMMANDS) {
      const command = await entry.load();
      const block = command.help.slice(command.help.indexOf("Exit codes:\n"));
      expect(block, entry.name).toMatch(/^Exit codes:\n {2}0 /);
      for (const [, code] of block.matchAll(/^ {2}(\d+) /gm))
        expect(EXIT_MEANINGS, `${entry.name}: ${code}`).toHaveProperty(String(code));
      expect(block, entry.name).toMatch(/^ {2}64 /m);
    }
  });

  it("maps every Ready reason, and the apply results, to codes of the table", () => {
    expect(Object.keys(NOT_READY_EXIT).sort()).toEqual(Object.values(REASON).sort());
    expect(NOT_READY_EXIT[REASON.RolledBack]).toBe(EXIT.rolledBack);
    expect(NOT_READY_EXIT[REASON.GateFailed]).toBe(EXIT.gateBlocked);
    expect(NOT_READY_EXIT[REASON.StackNeedsOperator]).toBe(EXIT.needsOperator);
    expect(NOT_READY_EXIT[REASON.ChangeSetFailed]).toBe(EXIT.needsOperator);
    expect(APPLY_EXIT["change-set-failed"]).toBe(EXIT.needsOperator);
  });

  it.each([
    [[], 0],
    [[0, 3, 1], 3],
    [[5, 4, 3], 5],
    [[1, 64], 1],
  ] as const)("the worst of %j is %i", (codes, worst) => {
    expect(worstExit(codes)).toBe(worst);
  });
});
