// The container image's Dockerfile, checked for what a platform team relies on.
// There is no Docker engine on these machines, so the image is not built here
// (the README says so); this reads the Dockerfile and its .dockerignore instead:
// pinned base images, a non-root user, production dependencies only, and every
// file the runtime reads at run time copied into the final stage.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), "utf8");
const DOCKERFILE = read("examples/container/Dockerfile");
const IGNORE = read("examples/container/Dockerfile.dockerignore");

interface Instruction {
  op: string;
  args: string;
}

/** Instructions, with `\` continuations joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [op = "", ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

const all = instructions(DOCKERFILE);
const finalStage = all.slice(all.map((i) => i.op).lastIndexOf("FROM"));

/** Top-level entries of the repository that src/ reads at run time through new URL("../../x"). */
function runtimeFiles(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) {
        const depth = path.split("/").length - new URL("src", ROOT).pathname.split("/").length;
        const up = "../".repeat(depth);
        for (const m of readFileSync(path, "utf8").matchAll(/new URL\("((?:\.\.\/)+)([^"]+)"/g)) {
          if (m[1] === up && m[2]) found.add(m[2].split("/")[0] ?? "");
        }
      }
    }
  };
  walk(new URL("src", ROOT).pathname);
  return [...found].sort();
}

describe("examples/container/Dockerfile", () => {
  it("pins every base image to a release or a digest", () => {
    const bases = all.filter((i) => i.op === "FROM").map((i) => i.args.split(/\s+/)[0] ?? "");
    expect(bases.length).toBeGreaterThanOrEqual(1);
    for (const image of bases)
      expect(image).toMatch(/(:\d+\.\d+\.\d+[-\w.]*|@sha256:[0-9a-f]{64})$/);
  });

  it("runs as a user that is not root", () => {
    const users = finalStage.filter((i) => i.op === "USER").map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    const last = users[users.length - 1] ?? "";
    expect(last.split(":")[0]).not.toMatch(/^(root|0)$/);
    // Nothing runs after it as another user.
    expect(
      finalStage.slice(finalStage.findIndex((i) => i.args === last)).map((i) => i.op),
    ).not.toContain("RUN");
  });

  it("installs the production dependencies only, from the lockfile", () => {
    const npm = finalStage.filter((i) => i.op === "RUN" && /\bnpm\b/.test(i.args));
    expect(npm.some((i) => /\bnpm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    expect(npm.some((i) => /\bnpm (install|i)\b/.test(i.args))).toBe(false);
    expect(finalStage.some((i) => i.op === "COPY" && /\bnode_modules\b/.test(i.args))).toBe(false);
  });

  it("starts quorate, and copies what it reads at run time into the final stage", () => {
    const entry = finalStage.find((i) => i.op === "ENTRYPOINT");
    expect(JSON.parse(entry?.args ?? "[]")).toEqual(["node", "/opt/quorate/bin/quorate"]);
    const copied = finalStage
      .filter((i) => i.op === "COPY")
      .flatMap((i) =>
        i.args
          .replace(/--from=\S+\s+/, "")
          .split(/\s+/)
          .slice(0, -1),
      )
      .map((source) => source.replace(/^\/src\//, "").replace(/\/$/, ""));
    const needed = ["bin", "dist", "package.json", ...runtimeFiles()];
    expect(runtimeFiles()).toEqual(expect.arrayContaining(["debian-packages.txt", "schemas"]));
    for (const path of needed) expect(copied).toContain(path);
  });

  it("sends only the sources to the build, never node_modules, .git or local state", () => {
    const rules = IGNORE.split("\n").filter((line) => line && !line.startsWith("#"));
    expect(rules[0]).toBe("**");
    const allowed = rules
      .filter((r) => r.startsWith("!"))
      .map((r) => r.slice(1).replace(/\/\*\*$/, ""));
    for (const i of all.filter((x) => x.op === "COPY" && !x.args.startsWith("--from"))) {
      for (const source of i.args.split(/\s+/).slice(0, -1)) expect(allowed).toContain(source);
    }
    for (const kept of ["node_modules", ".git", ".quorate", "test", "dist"]) {
      expect(allowed).not.toContain(kept);
    }
  });
});
