// The git revision recorded on stacks when apply runs outside the GitOps loop.
import { execFileSync } from "node:child_process";

/** HEAD of the repository holding `dir`, with "+dirty" when the manifests have uncommitted changes. */
export function detectRevision(dir: string, paths: readonly string[]): string {
  try {
    const head = execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const dirty = execFileSync("git", ["-C", dir, "status", "--porcelain", "--", ...paths], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return "unversioned";
  }
}

/** The checked-out branch of the repository holding `dir`; main when detached or not a repository. */
export function currentBranch(dir: string): string {
  try {
    const name = execFileSync("git", ["-C", dir, "rev-parse", "--abbrev-ref", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return name && name !== "HEAD" ? name : "main";
  } catch {
    return "main";
  }
}
