// The directory watch on a real temp directory (chokidar on the real file
// system). Nothing here waits a fixed time: a later write is the proof that
// an earlier one did (or did not) produce its own callback.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type DirectoryWatch,
  isIgnoredPath,
  touchesGitRefs,
  watchDirectory,
} from "../../src/source/watch.js";
import { waitFor } from "../helpers/waitFor.js";
import { removeDir, tempDir } from "./gitRepos.js";

let dir: string;
let watcher: DirectoryWatch | undefined;
let batches: string[][];

async function start(options: { ignore?: string[]; debounceMs?: number } = {}) {
  watcher = await watchDirectory(dir, {
    debounceMs: 200,
    onChange: (paths) => {
      batches.push([...paths]);
    },
    ...options,
  });
}

/** Write a sentinel and wait until a batch reports it. */
async function sentinel(name: string): Promise<void> {
  await writeFile(join(dir, name), name);
  await waitFor("the file's batch", () => expect(batches.flat()).toContain(name), {
    timeoutMs: 10_000,
  });
}

beforeEach(async () => {
  dir = await tempDir("watch");
  batches = [];
});

afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  await removeDir(dir);
});

describe("watchDirectory", () => {
  it("does not report files that exist when it starts", async () => {
    await mkdir(join(dir, "clusters"));
    await writeFile(join(dir, "clusters/dev.yaml"), "a: 1\n");
    await start();
    await sentinel("after-start");
    expect(batches).toEqual([["after-start"]]);
  });

  it("turns a burst of writes into one callback with every changed path", async () => {
    // A debounce well above the burst's spread, even on a loaded CI machine.
    await start({ debounceMs: 1000 });
    await mkdir(join(dir, "clusters"));
    const names = Array.from({ length: 12 }, (_, i) => `clusters/c${i}.yaml`);
    await Promise.all(names.map((name) => writeFile(join(dir, name), name)));
    await waitFor("a first batch", () => expect(batches.length).toBeGreaterThan(0), {
      timeoutMs: 10_000,
    });
    expect(batches[0]).toEqual([...names].sort());

    await sentinel("next");
    expect(batches).toHaveLength(2);
  });

  it("ignores .git internals, node_modules and given paths, but reports branch refs", async () => {
    await mkdir(join(dir, ".git/objects/ab"), { recursive: true });
    await mkdir(join(dir, ".git/refs/heads"), { recursive: true });
    await mkdir(join(dir, "node_modules"));
    await mkdir(join(dir, "scratch"));
    await start({ ignore: ["scratch"] });

    await writeFile(join(dir, ".git/objects/ab/cdef"), "object");
    await writeFile(join(dir, ".git/index"), "index");
    await writeFile(join(dir, ".git/refs/heads/main.lock"), "lock");
    await writeFile(join(dir, "node_modules/x.js"), "x");
    await writeFile(join(dir, "scratch/notes.txt"), "x");
    await writeFile(join(dir, ".git/refs/heads/main"), "0".repeat(40));
    await waitFor(
      "the ref's batch",
      () => expect(batches.flat()).toContain(".git/refs/heads/main"),
      {
        timeoutMs: 10_000,
      },
    );
    await sentinel("done");
    expect(batches.flat().sort()).toEqual([".git/refs/heads/main", "done"]);
    expect(touchesGitRefs(batches[0]!)).toBe(true);
  });

  it("keeps calling back after a callback throws, and reports the error", async () => {
    const errors: unknown[] = [];
    let calls = 0;
    watcher = await watchDirectory(dir, {
      debounceMs: 50,
      onChange: () => {
        calls += 1;
        if (calls === 1) throw new Error("render failed");
      },
      onError: (error) => errors.push(error),
    });
    await writeFile(join(dir, "a"), "a");
    await waitFor("one error", () => expect(errors).toHaveLength(1), { timeoutMs: 10_000 });
    await writeFile(join(dir, "b"), "b");
    await waitFor("a second call", () => expect(calls).toBe(2), { timeoutMs: 10_000 });
    expect(String(errors[0])).toContain("render failed");
  });

  it("stops calling back once closed", async () => {
    await start();
    await watcher?.close();
    await writeFile(join(dir, "late"), "x");
    // A second watch on the same directory sees the next write; the closed one saw none.
    const seen: string[][] = [];
    const other = await watchDirectory(dir, {
      debounceMs: 50,
      onChange: (p) => void seen.push([...p]),
    });
    await writeFile(join(dir, "later"), "x");
    await waitFor("the later batch", () => expect(seen.flat()).toContain("later"), {
      timeoutMs: 10_000,
    });
    await other.close();
    expect(batches).toEqual([]);
  });
});

describe("isIgnoredPath", () => {
  it.each([
    ["clusters/dev.yaml", false],
    [".git", false],
    [".git/refs", false],
    [".git/refs/heads", false],
    [".git/refs/heads/main", false],
    [".git/refs/heads/team/feature", false],
    [".git/packed-refs", false],
    [".git/refs/heads/main.lock", true],
    [".git/packed-refs.lock", true],
    [".git/refs/tags/v1", true],
    [".git/objects/ab/cd", true],
    [".git/index", true],
    [".git/HEAD", true],
    [".git/logs/HEAD", true],
    ["node_modules/a.js", true],
    [".quorate/cache/x", true],
    ["scratch/a", true],
    ["scratchpad/a", false],
  ])("%s -> %s", (path, ignored) => {
    expect(isIgnoredPath(path, ["scratch", /\.swp$/])).toBe(ignored);
  });
});
