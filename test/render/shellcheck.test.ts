// shellcheck of the bootstrap as the rendered user-data writes it (Ignition and
// cloud-config), at every severity of its default checks, as POSIX sh (Flatcar runs it with
// /bin/sh). .ci/run installs shellcheck; skipped with a message where it is
// missing.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BOOTSTRAP_PATH, RESTORE_SCRIPT_PATH } from "../../src/render/bootSettings.js";
import { renderUserData } from "../../src/render/userData.js";
import { userDataContents } from "./instanceRoot.js";
import { coreosLegacySpec, devSpec, snapsBackup, tlsSpec } from "./specs.js";

const available = spawnSync("shellcheck", ["--version"]).status === 0;

function shellcheck(script: string): { status: number | null; output: string } {
  const result = spawnSync("shellcheck", ["--shell=sh", "--severity=style", "--format=gcc", "-"], {
    input: script,
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

function renderedBootstrap(text: string, path = BOOTSTRAP_PATH): string {
  const file = userDataContents(text).files.find((f) => f.path === path);
  if (!file) throw new Error(`the user-data writes no ${path}`);
  return file.content;
}

/** dev with a restore: the only user-data that writes the restore step. */
function restoreSpec() {
  const spec = devSpec();
  return {
    ...spec,
    backup: snapsBackup(),
    restore: { id: "r1", snapshot: "latest" },
  };
}

const title = "shellcheck of the rendered bootstrap";
const suite = available ? describe : describe.skip;
suite(available ? title : `${title}: SKIPPED, shellcheck is not installed here`, () => {
  it.each([
    ["flatcar (Ignition)", devSpec],
    ["flatcar with TLS", tlsSpec],
    ["coreos-legacy (cloud-config)", coreosLegacySpec],
  ])("%s: no findings", (_name, make) => {
    expect(shellcheck(renderedBootstrap(renderUserData(make())))).toEqual({
      status: 0,
      output: "",
    });
  });

  it("the restore step a restore's members source: no findings", () => {
    expect(
      shellcheck(renderedBootstrap(renderUserData(restoreSpec()), RESTORE_SCRIPT_PATH)),
    ).toEqual({ status: 0, output: "" });
  });

  it("does report a finding in a broken variant", () => {
    const broken = `${renderedBootstrap(renderUserData(devSpec()))}\necho $INSTANCE_ID\n`;
    const result = shellcheck(broken);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("SC2086");
  });
});
