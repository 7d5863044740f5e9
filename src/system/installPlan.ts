// What to do about missing system commands: nothing, install their Debian
// packages (saying so first), or refuse and print the command for a person.
// Pure: the probes (PATH, root, `sudo -n true`, apt-get) are passed in, so the
// decision is tested as a table and apt never runs in a test.
import type { PackageEntry, PackageUser } from "./packageList.js";

/** root: install directly; sudo: `sudo -n` works without a password; none: neither. */
export type Privilege = "root" | "sudo" | "none";

export interface InstallSituation {
  entries: readonly PackageEntry[];
  user: PackageUser;
  /** Commands that are not on PATH. */
  missing: ReadonlySet<string>;
  privilege: Privilege;
  /** Whether apt-get is on PATH (a Debian-based machine). */
  apt: boolean;
  /** Why installing is turned off ("QUORATE_NO_INSTALL=1", "--no-install"), when it is. */
  turnedOff?: string;
}

export interface MissingCommand {
  command: string;
  package: string;
  why: string;
}

export type InstallPlan =
  | { kind: "ready" }
  | {
      kind: "install";
      missing: MissingCommand[];
      packages: string[];
      /** argv of each step, run in order. */
      steps: string[][];
      /** The steps as a person would type them. */
      shown: string;
    }
  | {
      kind: "refuse";
      missing: MissingCommand[];
      packages: string[];
      /** Why quorate does not install them itself. */
      reason: string;
      /** The command that installs them, for the person to run. */
      command: string;
    };

export const NO_INSTALL_ENV = "QUORATE_NO_INSTALL";

/** QUORATE_NO_INSTALL=1 (any value but empty, 0, false or no) or the flag turn installing off. */
export function installTurnedOff(
  env: Readonly<Record<string, string | undefined>>,
  flag: boolean,
): string | undefined {
  if (flag) return "--no-install";
  const value = env[NO_INSTALL_ENV];
  if (value !== undefined && !["", "0", "false", "no"].includes(value.toLowerCase())) {
    return `${NO_INSTALL_ENV}=${value}`;
  }
  return undefined;
}

export function planInstall(situation: InstallSituation): InstallPlan {
  const missing = situation.entries
    .filter((e) => e.users.includes(situation.user) && situation.missing.has(e.command))
    .map((e) => ({ command: e.command, package: e.package, why: e.why }));
  if (missing.length === 0) return { kind: "ready" };
  const packages = [...new Set(missing.map((m) => m.package))];
  const sudo = situation.privilege === "root" ? [] : ["sudo"];
  const command = [...sudo, "apt-get", "install", "-y", ...packages].join(" ");
  const refuse = (reason: string): InstallPlan => ({
    kind: "refuse",
    missing,
    packages,
    reason,
    command,
  });
  if (situation.turnedOff) return refuse(`installing is turned off (${situation.turnedOff})`);
  if (!situation.apt) return refuse("apt-get is not on PATH (this is not a Debian-based machine)");
  if (situation.privilege === "none") {
    return refuse("quorate is not root and `sudo -n true` fails (sudo would ask for a password)");
  }
  // sudo resets the environment, so DEBIAN_FRONTEND goes through env(1).
  const run = situation.privilege === "sudo" ? ["sudo", "-n"] : [];
  return {
    kind: "install",
    missing,
    packages,
    steps: [
      [...run, "apt-get", "update", "-qq"],
      [
        ...run,
        "env",
        "DEBIAN_FRONTEND=noninteractive",
        "apt-get",
        "install",
        "-y",
        "-q",
        ...packages,
      ],
    ],
    shown: `${[...sudo, "apt-get", "update"].join(" ")} && ${command}`,
  };
}
