// The installer's decision as a table: which packages it installs for which
// missing commands, and when it refuses and prints the command instead. No
// apt-get runs here: planInstall only decides.
import { describe, expect, it } from "vitest";
import {
  type InstallSituation,
  installTurnedOff,
  planInstall,
} from "../../src/system/installPlan.js";
import type { PackageEntry } from "../../src/system/packageList.js";

const ENTRIES: PackageEntry[] = [
  { command: "etcd", package: "etcd-server", users: ["ci", "demo"], why: "real etcd" },
  { command: "git", package: "git", users: ["ci", "demo"], why: "the repository" },
  { command: "gpg", package: "gnupg", users: ["ci"], why: "signature tests" },
  { command: "etcdctl", package: "etcd-client", users: ["ci"], why: "etcdctl tests" },
  { command: "etcdutl", package: "etcd-client", users: ["ci"], why: "etcdutl tests" },
];

const situation = (over: Partial<InstallSituation>): InstallSituation => ({
  entries: ENTRIES,
  user: "demo",
  missing: new Set(),
  privilege: "root",
  apt: true,
  ...over,
});

describe("planInstall", () => {
  it.each([
    {
      name: "nothing missing: nothing to do",
      given: {},
      kind: "ready",
    },
    {
      name: "only a command the demo does not use is missing: nothing to do",
      given: { missing: new Set(["gpg"]) },
      kind: "ready",
    },
    {
      name: "etcd missing, as root: installs etcd-server",
      given: { missing: new Set(["etcd"]) },
      kind: "install",
      packages: ["etcd-server"],
      steps: [
        ["apt-get", "update", "-qq"],
        ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-q", "etcd-server"],
      ],
      shown: "apt-get update && apt-get install -y etcd-server",
    },
    {
      name: "etcd and git missing, through sudo: installs both with sudo -n",
      given: { missing: new Set(["git", "etcd"]), privilege: "sudo" },
      kind: "install",
      packages: ["etcd-server", "git"],
      steps: [
        ["sudo", "-n", "apt-get", "update", "-qq"],
        [
          "sudo",
          "-n",
          "env",
          "DEBIAN_FRONTEND=noninteractive",
          "apt-get",
          "install",
          "-y",
          "-q",
          "etcd-server",
          "git",
        ],
      ],
      shown: "sudo apt-get update && sudo apt-get install -y etcd-server git",
    },
    {
      name: "for CI: every missing command of its own, one package once",
      given: { user: "ci", missing: new Set(["gpg", "etcdctl", "etcdutl"]) },
      kind: "install",
      packages: ["gnupg", "etcd-client"],
      shown: "apt-get update && apt-get install -y gnupg etcd-client",
    },
    {
      name: "not root and sudo needs a password: refuses and prints the sudo command",
      given: { missing: new Set(["etcd"]), privilege: "none" },
      kind: "refuse",
      packages: ["etcd-server"],
      command: "sudo apt-get install -y etcd-server",
      reason: "quorate is not root and `sudo -n true` fails (sudo would ask for a password)",
    },
    {
      name: "turned off, even as root: refuses and prints the command",
      given: { missing: new Set(["etcd", "git"]), turnedOff: "QUORATE_NO_INSTALL=1" },
      kind: "refuse",
      packages: ["etcd-server", "git"],
      command: "apt-get install -y etcd-server git",
      reason: "installing is turned off (QUORATE_NO_INSTALL=1)",
    },
    {
      name: "no apt-get: refuses, still naming the Debian command",
      given: { missing: new Set(["git"]), privilege: "sudo", apt: false },
      kind: "refuse",
      packages: ["git"],
      command: "sudo apt-get install -y git",
      reason: "apt-get is not on PATH (this is not a Debian-based machine)",
    },
  ] as const)("$name", ({ name: _name, given, kind, ...expected }) => {
    const plan = planInstall(situation(given as Partial<InstallSituation>));
    expect(plan.kind).toBe(kind);
    if (plan.kind === "ready") return;
    expect(plan).toMatchObject(expected);
    const wanted = situation(given as Partial<InstallSituation>);
    expect(plan.missing.map((m) => m.command).sort()).toEqual(
      ENTRIES.filter((e) => e.users.includes(wanted.user) && wanted.missing.has(e.command))
        .map((e) => e.command)
        .sort(),
    );
  });

  it("says why each missing command is needed", () => {
    const plan = planInstall(situation({ missing: new Set(["etcd"]), privilege: "none" }));
    expect(plan.kind === "refuse" && plan.missing).toEqual([
      { command: "etcd", package: "etcd-server", why: "real etcd" },
    ]);
  });
});

describe("installTurnedOff", () => {
  it.each([
    { env: {}, flag: false, off: undefined },
    { env: { QUORATE_NO_INSTALL: "1" }, flag: false, off: "QUORATE_NO_INSTALL=1" },
    { env: { QUORATE_NO_INSTALL: "yes" }, flag: false, off: "QUORATE_NO_INSTALL=yes" },
    { env: { QUORATE_NO_INSTALL: "0" }, flag: false, off: undefined },
    { env: { QUORATE_NO_INSTALL: "" }, flag: false, off: undefined },
    { env: { QUORATE_NO_INSTALL: "false" }, flag: false, off: undefined },
    { env: {}, flag: true, off: "--no-install" },
  ])("$env, --no-install $flag: $off", ({ env, flag, off }) => {
    expect(installTurnedOff(env, flag)).toBe(off);
  });
});
