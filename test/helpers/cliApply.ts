// `quorate apply --yes --local` of the example dev manifest, with the test
// gates and the given changes, against a harness's local cloud: the command an
// operator runs, in-process, for stories that assert its exit code and output.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { type CliResult, cli } from "../cli/run.js";
import { TEST_GATES } from "./quorateHarness.js";

/** Writes dir/dev.yaml and applies it; dir is also the CLI's cache (XDG_CACHE_HOME). */
export async function applyDevByCli(
  endpoint: string,
  dir: string,
  change: (manifest: Record<string, any>) => void,
): Promise<CliResult> {
  writeDev(dir, change);
  return cli(
    [
      "apply",
      "--yes",
      "--local",
      "--endpoint",
      endpoint,
      "--cluster",
      "dev",
      "--path",
      dir,
      "--revision",
      "rev-cli",
      "--tick",
      "200",
    ],
    { env: { ...process.env, XDG_CACHE_HOME: dir } },
  );
}

/** dir/dev.yaml: the example dev manifest with the test gates and the given changes. */
export function writeDev(dir: string, change: (manifest: Record<string, any>) => void): void {
  const manifest = parse(readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8"));
  manifest.spec.gates = { ...manifest.spec.gates, ...TEST_GATES };
  change(manifest);
  writeFileSync(join(dir, "dev.yaml"), stringify(manifest));
}
