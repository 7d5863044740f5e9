// The IO around planInstall: which commands are on PATH, whether this process
// may install (root, or `sudo -n true`), and running apt-get after saying
// what it installs and why. Used by `npm start` (quorate demo).
import { spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";
import { terminal } from "../errors.js";
import {
  type InstallPlan,
  type MissingCommand,
  type Privilege,
  planInstall,
} from "./installPlan.js";
import { type PackageUser, readPackageList } from "./packageList.js";

export interface EnsureOptions {
  user: PackageUser;
  /** What needs them, as the person knows it: "the demo". */
  who: string;
  env: NodeJS.ProcessEnv;
  /** Why installing is turned off, if it is (installTurnedOff). */
  turnedOff?: string;
  /** How to turn installing off, said before installing: "QUORATE_NO_INSTALL=1 or --no-install". */
  offSwitch: string;
  say: (line: string) => void;
  /** How to try again once the person installed them: "run `npm start` again". */
  again: string;
}

/** Makes sure every command `user` needs is on PATH, installing their packages when allowed. */
export function ensureCommands(options: EnsureOptions): void {
  const entries = readPackageList().filter((e) => e.users.includes(options.user));
  const path = options.env.PATH ?? "";
  const missing = new Set(entries.filter((e) => !onPath(e.command, path)).map((e) => e.command));
  if (missing.size === 0) return; // the common case: no sudo probe, nothing said
  const plan = planInstall({
    entries,
    user: options.user,
    missing,
    privilege: privilege(),
    apt: onPath("apt-get", path),
    ...(options.turnedOff ? { turnedOff: options.turnedOff } : {}),
  });
  if (plan.kind === "ready") return;
  if (plan.kind === "refuse") {
    throw terminal(
      `${options.who} needs ${listMissing(plan.missing)}, not found on PATH; ${plan.reason}`,
      `install with \`${plan.command}\` on Debian, then ${options.again}`,
    );
  }
  install(plan, options);
  const still = plan.missing.filter((m) => !onPath(m.command, path));
  if (still.length > 0) {
    throw terminal(
      `apt-get installed ${plan.packages.join(" ")}, but ${still.map((m) => m.command).join(" and ")} is still not on PATH (${path})`,
      `check where the package put it (dpkg -L ${still[0]?.package}) and add that directory to PATH, then ${options.again}`,
    );
  }
}

function install(plan: Extract<InstallPlan, { kind: "install" }>, options: EnsureOptions): void {
  for (const m of plan.missing) {
    options.say(`quorate: ${options.who} needs ${m.command} (${m.why}); it is not on PATH`);
  }
  const packages = `package${plan.packages.length > 1 ? "s" : ""} ${plan.packages.join(" ")}`;
  options.say(`quorate: installing the Debian ${packages} (${options.offSwitch} turns this off):`);
  options.say(`  ${plan.shown}`);
  for (const step of plan.steps) {
    const [program, ...args] = step as [string, ...string[]];
    const run = spawnSync(program, args, {
      stdio: ["ignore", "inherit", "inherit"],
      env: options.env,
    });
    if (run.error || run.status !== 0) {
      const how = run.error ? run.error.message : `exit ${run.status ?? run.signal}`;
      throw terminal(
        `\`${step.join(" ")}\` failed (${how}); nothing else was changed`,
        `install by hand with \`${plan.shown}\`, then ${options.again}`,
      );
    }
  }
  options.say(`quorate: installed ${plan.packages.join(" ")}\n`);
}

function listMissing(missing: readonly MissingCommand[]): string {
  return missing.map((m) => `${m.command} (${m.why})`).join(" and ");
}

/** Whether an executable file named `command` is in one of PATH's directories. */
export function onPath(command: string, path: string): boolean {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return true;
    } catch {
      // not here
    }
  }
  return false;
}

function privilege(): Privilege {
  if (process.getuid?.() === 0) return "root";
  const sudo = spawnSync("sudo", ["-n", "true"], { stdio: "ignore", timeout: 10_000 });
  return !sudo.error && sudo.status === 0 ? "sudo" : "none";
}
