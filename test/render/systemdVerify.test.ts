// `systemd-analyze verify` of every unit set quorate renders (Flatcar Ignition
// and coreos-legacy cloud-config, TLS off and on), in a root directory laid out
// as the instance has it: the rendered files and units, the host's own systemd
// units (the targets they hang off), and a stub of Flatcar's
// etcd-member.service (test/fixtures/systemd/etcd-member.service, which names
// its source). Programs a Flatcar image has and this machine cannot run in the
// root (etcd-wrapper, docker, sh) are stand-in executables; the bootstrap is
// the rendered one. Skipped, with a message saying so, where systemd-analyze
// is not installed.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ClusterSpec } from "../../src/manifest/types.js";
import { FORMAT_UNIT, formatDataUnit } from "../../src/render/systemdUnits.js";
import { renderUserData } from "../../src/render/userData.js";
import { userDataContents, writeInstanceRoot } from "./instanceRoot.js";
import { coreosLegacySpec, devSpec, tlsSpec } from "./specs.js";

const ETCD_MEMBER_STUB = join(import.meta.dirname, "../fixtures/systemd/etcd-member.service");
const HOST_UNITS = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((dir) =>
  existsSync(join(dir, "local-fs.target")),
);
const available =
  spawnSync("systemd-analyze", ["--version"]).status === 0 && HOST_UNITS !== undefined;

/** Executables the units name that belong to the image, not to quorate. */
const IMAGE_PROGRAMS = [
  "usr/bin/sh",
  "usr/bin/mkdir",
  "usr/bin/docker",
  "usr/lib/flatcar/etcd-wrapper",
];

const base = mkdtempSync(join(tmpdir(), "quorate-systemd-verify-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function instanceRoot(name: string, userData: string): { root: string; units: string[] } {
  const root = join(base, name);
  mkdirSync(join(root, "usr/lib/systemd"), { recursive: true });
  cpSync(HOST_UNITS as string, join(root, "usr/lib/systemd/system"), { recursive: true });
  copyFileSync(ETCD_MEMBER_STUB, join(root, "usr/lib/systemd/system/etcd-member.service"));
  // Flatcar's merged /usr: /bin is a link into it.
  symlinkSync("usr/bin", join(root, "bin"));
  for (const program of IMAGE_PROGRAMS) {
    mkdirSync(join(root, program, ".."), { recursive: true });
    writeFileSync(join(root, program), "#!/bin/sh\nexit 0\n");
    chmodSync(join(root, program), 0o755);
  }
  const contents = userDataContents(userData);
  writeInstanceRoot(root, contents);
  // A unit named only to be restarted (cloud-config's systemd-timesyncd) is the image's, not ours.
  const units = contents.units
    .filter((u) => u.contents !== undefined || u.dropins.length > 0)
    .map((u) => u.name);
  return { root, units: [...new Set([...units, "etcd-member.service"])] };
}

function verify(root: string, units: string[]): { status: number | null; output: string } {
  const result = spawnSync("systemd-analyze", ["verify", "--man=no", `--root=${root}`, ...units], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}`.trim() };
}

const CASES: [string, () => ClusterSpec][] = [
  ["flatcar (Ignition)", devSpec],
  ["flatcar with TLS", tlsSpec],
  ["coreos-legacy (cloud-config)", coreosLegacySpec],
  [
    "coreos-legacy with TLS",
    () => {
      const spec = coreosLegacySpec();
      spec.etcd.tls = { enabled: true, parameterPrefix: "/quorate/dev/" };
      return spec;
    },
  ],
];

const title = "systemd-analyze verify of the rendered units";
const suite = available ? describe : describe.skip;
suite(available ? title : `${title}: SKIPPED, systemd-analyze is not installed here`, () => {
  it.each(CASES)("%s: no errors and no warnings", (name, make) => {
    const { root, units } = instanceRoot(name.replace(/\W+/g, "-"), renderUserData(make()));
    expect(units).toContain("etcd-member.service");
    expect(verify(root, units)).toEqual({ status: 0, output: "" });
  });

  it("does report the ordering cycle of a format unit with default dependencies", () => {
    const spec = coreosLegacySpec();
    const { root, units } = instanceRoot("cycle", renderUserData(spec));
    const withDefaults = formatDataUnit(spec).replace("DefaultDependencies=no\n", "");
    writeFileSync(join(root, "etc/systemd/system", FORMAT_UNIT), withDefaults);
    const result = verify(root, units);
    expect(result.status).not.toBe(0);
    expect(result.output).toContain("unfixable cyclic ordering dependency");
  });
});
