// debian-packages.txt is the one list of system packages: the TypeScript
// reader (npm start) and .ci/missing-packages (bash .ci/run) read it alike.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { planInstall } from "../../src/system/installPlan.js";
import { parsePackageList, readPackageList } from "../../src/system/packageList.js";

const fakeBin = mkdtempSync(join(tmpdir(), "quorate-fakebin-"));
afterAll(() => rmSync(fakeBin, { recursive: true, force: true }));

/** A PATH holding only stand-ins for `present` (the script uses bash builtins only). */
function pathWith(present: readonly string[]): string {
  const dir = mkdtempSync(join(fakeBin, "path-"));
  for (const command of present) {
    writeFileSync(join(dir, command), "#!/bin/sh\n");
    chmodSync(join(dir, command), 0o755);
  }
  return dir;
}

function missingPackagesScript(user: string, path: string): string {
  const run = spawnSync("/bin/bash", [".ci/missing-packages", user], {
    encoding: "utf8",
    env: { PATH: path },
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return run.stdout.trim();
}

describe("the package list", () => {
  const entries = readPackageList();

  it("names etcd-server and git for the demo, and what the tests need for CI", () => {
    const demo = entries.filter((e) => e.users.includes("demo")).map((e) => e.package);
    expect(demo).toEqual(["etcd-server", "etcd-client", "git"]);
    const ci = entries.filter((e) => e.users.includes("ci")).map((e) => e.command);
    expect(ci).toEqual(
      expect.arrayContaining(["etcd", "etcdctl", "git", "ssh-keygen", "gpg", "openssl"]),
    );
    for (const e of entries) expect(e.why.length).toBeGreaterThan(5);
  });

  it.each([
    { user: "ci", present: [] },
    { user: "ci", present: ["etcd", "gpg"] },
    { user: "demo", present: [] },
    { user: "demo", present: ["git"] },
    { user: "demo", present: ["etcd", "git"] },
  ] as const)(
    "bash and TypeScript pick the same packages: $user with $present",
    ({ user, present }) => {
      const fromScript = missingPackagesScript(user, pathWith(present));
      const plan = planInstall({
        entries,
        user,
        missing: new Set(
          entries.map((e) => e.command).filter((c) => !present.includes(c as never)),
        ),
        privilege: "root",
        apt: true,
      });
      expect(fromScript).toBe(plan.kind === "install" ? plan.packages.join(" ") : "");
      if (user === "demo" && present.length === 0) {
        expect(fromScript).toBe("etcd-server etcd-client git");
      }
    },
  );

  it.each([
    {
      line: "etcd etcd-server",
      error: "debian-packages.txt:2: expected COMMAND PACKAGE USERS WHY",
    },
    {
      line: "etcd etcd-server ops real etcd",
      error: "debian-packages.txt:2: unknown user ops for etcd",
    },
  ])("refuses a malformed line with its file and line: $line", ({ line, error }) => {
    expect(() => parsePackageList(`# header\n${line}\n`)).toThrow(error);
  });
});
