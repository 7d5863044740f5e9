// Golden files under test/fixtures/plan/; `UPDATE_GOLDEN=1 npx vitest run test/plan` rewrites them.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/plan");

export function expectGolden(name: string, actual: string): void {
  const file = join(FIXTURES, name);
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) {
    if (process.env.CI && !existsSync(file)) throw new Error(`golden file ${name} is missing`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  expect(actual, `${name} differs: run UPDATE_GOLDEN=1 npx vitest run test/plan to accept`).toBe(
    readFileSync(file, "utf8"),
  );
}
