// Golden files: compared byte for byte; `UPDATE_GOLDEN=1 npx vitest run` rewrites them.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect } from "vitest";

export const RENDER_FIXTURES = join(import.meta.dirname, "../fixtures/render");

export function expectGolden(path: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) {
    throw new Error(`golden file ${path} is missing: run UPDATE_GOLDEN=1 npx vitest run`);
  }
  expect(actual).toBe(readFileSync(path, "utf8"));
}
