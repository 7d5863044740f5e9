// SIGTERM while `quorate validate` parses a repository of large manifests (12
// files just under the 1 MiB cap, 60,000 annotation keys each: about a second
// of parsing each). Parsing is synchronous; the loader yields between files,
// so the signal's bounded stop runs within a file's time of the deadline. It
// once waited for every file: a minute for sixty of them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { spawnQuorate } from "./spawnCli.js";

const FILES = 12;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "quorate-slow-parse-"));
  const dev = readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8");
  const annotations = Array.from({ length: 60_000 }, (_, i) => `    k${i}: v`).join("\n");
  for (let n = 0; n < FILES; n++) {
    const text = dev
      .replace("name: dev", `name: dev${n}`)
      .replace("metadata:\n", `metadata:\n  annotations:\n${annotations}\n`);
    writeFileSync(join(dir, `dev${n}.yaml`), text);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("exits 124 within a file's parse of the stop deadline, not after every file", async () => {
  let signalledAt = 0;
  const exited = spawnQuorate(["validate", dir], dir, {
    env: { ...process.env, QUORATE_STOP_TIMEOUT: "PT1S" },
    onStart: (pid) => {
      // Past start-up and reading, into the parse of the first files.
      setTimeout(() => {
        signalledAt = Date.now();
        process.kill(pid, "SIGTERM");
      }, 1_500);
    },
  });
  const exit = await exited;
  const took = Date.now() - signalledAt;
  // 124: the deadline passed with the parse still under way (it was mid-parse).
  expect(exit.code, exit.stderr).toBe(124);
  expect(exit.stderr).toContain("stop timed out; exiting with work still in flight");
  // The deadline (1 s) plus at most the file being parsed when it passed.
  expect(took).toBeLessThan(4_000);
}, 60_000);
