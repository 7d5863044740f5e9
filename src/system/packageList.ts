// The Debian packages quorate needs, read from debian-packages.txt at the top
// of the repository: the one list both `.ci/run` (through .ci/missing-packages)
// and `npm start` install from. One line per command:
//   COMMAND  PACKAGE  USERS  WHY
// USERS says who needs it (ci: the test suite, demo: `npm start`).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { terminal } from "../errors.js";

export const PACKAGE_USERS = ["ci", "demo"] as const;
export type PackageUser = (typeof PACKAGE_USERS)[number];

export interface PackageEntry {
  /** The executable looked for on PATH. */
  command: string;
  /** The Debian package that provides it. */
  package: string;
  users: PackageUser[];
  /** Why quorate needs it, said to the person before anything is installed. */
  why: string;
}

/** dist/system/*.js and src/system/*.ts both sit two levels below the repository. */
export const PACKAGE_LIST_PATH = fileURLToPath(
  new URL("../../debian-packages.txt", import.meta.url),
);

/** Parses the list; a malformed line is an error naming the file and line. */
export function parsePackageList(text: string, file = "debian-packages.txt"): PackageEntry[] {
  const entries: PackageEntry[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [command, pkg, users, ...why] = line.split(/\s+/);
    const where = `${file}:${index + 1}`;
    if (!command || !pkg || !users || why.length === 0) {
      throw terminal(
        `${where}: expected COMMAND PACKAGE USERS WHY (got "${line}")`,
        "give every line all four columns, USERS as a comma-separated list of ci, demo",
      );
    }
    const named = users.split(",");
    const unknown = named.filter((u) => !(PACKAGE_USERS as readonly string[]).includes(u));
    if (unknown.length > 0) {
      throw terminal(
        `${where}: unknown user ${unknown.join(", ")} for ${command}`,
        `USERS lists who needs the package, from ${PACKAGE_USERS.join(", ")}`,
      );
    }
    entries.push({ command, package: pkg, users: named as PackageUser[], why: why.join(" ") });
  });
  return entries;
}

export function readPackageList(path = PACKAGE_LIST_PATH): PackageEntry[] {
  return parsePackageList(readFileSync(path, "utf8"), path);
}
