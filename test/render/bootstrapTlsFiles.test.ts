// The modes of the TLS files the rendered bootstrap writes, at every step: the
// real script runs under sh with the real curl against a loopback IMDS, and
// stand-ins record the mode of every file in the TLS directory each time the
// script touches it: when the AWS CLI container is run (its output file has
// just been created by the shell's redirection), and before and after each
// mv, chmod and chown (which then do their real work, except chown: Flatcar's
// etcd user is not here, so it only records). docker and systemctl cannot run
// here; their stand-ins answer as SSM and a failed etcd-member.service would.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bootSettingsFor, TLS_DIR, tlsSettingsFor } from "../../src/render/bootSettings.js";
import { bootstrapScript } from "../../src/render/bootstrapScript.js";
import { encodeBootSettings, peerListTags } from "../../src/render/contract.js";
import { imdsEndpoint, startImds } from "./fakeImds.js";
import { tlsSpec } from "./specs.js";

const realTool = (name: string) =>
  spawnSync("sh", ["-c", `command -v ${name}`])
    .stdout.toString()
    .trim();
const hasTools = ["curl", "stat", "mv", "chmod"].every((tool) => realTool(tool) !== "");

/** Appends "<step>\t<file>\t<octal mode>" for every file in the TLS directory. */
const SNAPSHOT = `snapshot() {
  for f in "$QUORATE_ROOT${TLS_DIR}"/*; do
    [ -e "$f" ] || continue
    printf '%s\\t%s\\t%s\\n' "$1" "\${f##*/}" "$(stat -c %a "$f")" >>"$QUORATE_ROOT/modes.log"
  done
}
`;

const wrapper = (name: string, real: string) => `#!/bin/sh
${SNAPSHOT}snapshot "before ${name} $*"
${real ? `${real} "$@" || exit $?` : "# ownership cannot change here: record only"}
snapshot "after ${name} $*"
`;

const FAKE_DOCKER = `#!/bin/sh
# docker stand-in: the AWS CLI container answering ssm get-parameter.
${SNAPSHOT}case "$*" in
*"ssm get-parameter"*)
  name=""
  prev=""
  for arg in "$@"; do
    [ "$prev" = --name ] && name=$arg
    prev=$arg
  done
  snapshot "docker get-parameter \${name##*/}"
  printf -- '-----BEGIN TEST %s-----\\n' "\${name##*/}"
  ;;
esac
`;

const FAKE_SYSTEMCTL = `#!/bin/sh
# systemctl stand-in: etcd-member.service starts and fails at once.
${SNAPSHOT}case "$1" in
start) snapshot "systemctl start" ;;
show) case "$3" in NRestarts) echo 0 ;; *) echo failed ;; esac ;;
esac
`;

const base = mkdtempSync(join(tmpdir(), "quorate-bootstrap-tls-"));
let imds: Server | undefined;
afterAll(async () => {
  await new Promise<void>((resolve) => (imds ? imds.close(() => resolve()) : resolve()));
  rmSync(base, { recursive: true, force: true });
});

interface Observation {
  step: string;
  file: string;
  mode: number;
}

async function runBootstrap(): Promise<{
  code: number | null;
  stderr: string;
  log: Observation[];
}> {
  const spec = tlsSpec();
  const root = join(base, "instance");
  const bin = join(root, "bin");
  mkdirSync(join(root, "etc/quorate"), { recursive: true });
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(root, "etc/quorate/etcd.env"), encodeBootSettings(bootSettingsFor(spec)));
  writeFileSync(join(root, "etc/quorate/tls.env"), tlsSettingsFor(spec) ?? "");
  writeFileSync(join(root, "bootstrap"), bootstrapScript());
  const tools: Record<string, string> = {
    docker: FAKE_DOCKER,
    systemctl: FAKE_SYSTEMCTL,
    // Flatcar has an etcd user; say so, whatever this machine has.
    id: "#!/bin/sh\nexit 0\n",
    mv: wrapper("mv", realTool("mv")),
    chmod: wrapper("chmod", realTool("chmod")),
    chown: wrapper("chown", ""),
  };
  for (const [name, text] of Object.entries(tools)) {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  }
  const id = "i-0ccccccccccccccc1";
  // A loopback address nothing listens on: the health check fails at once.
  const ip = `127.84.${Math.floor(Math.random() * 256)}.1`;
  const tags = new Map(
    Object.entries(
      peerListTags({ state: "new", token: "t", initialCluster: `${id}=https://${ip}:2380` }),
    ),
  );
  imds = await startImds({ id, ip, tags });
  // systemd starts services with UMask=0022 unless told otherwise: so does this test.
  const child = spawn("sh", ["-c", 'umask 022 && exec sh "$0"', join(root, "bootstrap")], {
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      QUORATE_ROOT: root,
      QUORATE_IMDS_ENDPOINT: imdsEndpoint(imds),
      QUORATE_POLL_SECONDS: "0.1",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const log = readFileSync(join(root, "modes.log"), "utf8")
    .trimEnd()
    .split("\n")
    .map((line) => {
      const [step = "", file = "", mode = ""] = line.split("\t");
      return { step, file, mode: Number.parseInt(mode, 8) };
    });
  return { code, stderr, log };
}

describe.skipIf(!hasTools)("TLS files written by the bootstrap", () => {
  it("are never readable by group or others while a private key, at any step", async () => {
    const { code, stderr, log } = await runBootstrap();
    // It got through the TLS files and then stopped at the failed etcd.
    expect(stderr).toContain("etcd-member.service failed");
    expect(code).toBe(1);

    // Each key was observed right after the shell created its file, and after each later step.
    const keySteps = log.filter((o) => /\.key(\.tmp)?$/.test(o.file));
    expect(keySteps.map((o) => `${o.step}: ${o.file}`)).toEqual(
      expect.arrayContaining([
        "docker get-parameter server.key: server.key.tmp",
        "docker get-parameter peer.key: peer.key.tmp",
        expect.stringMatching(/^after mv .*: server\.key$/),
        expect.stringMatching(/^after chmod .*: peer\.key$/),
        expect.stringMatching(/^after chown .*: peer\.key$/),
        "systemctl start: server.key",
      ]),
    );
    const exposed = keySteps.filter((o) => (o.mode & 0o077) !== 0);
    expect(exposed.map((o) => `${o.step}: ${o.file} ${o.mode.toString(8)}`)).toEqual([]);

    // When etcd starts: keys 0600, certificates 0644.
    const atStart = Object.fromEntries(
      log.filter((o) => o.step === "systemctl start").map((o) => [o.file, o.mode.toString(8)]),
    );
    expect(atStart).toEqual({
      "ca.crt": "644",
      "server.crt": "644",
      "server.key": "600",
      "peer.crt": "644",
      "peer.key": "600",
    });
  }, 30_000);
});
