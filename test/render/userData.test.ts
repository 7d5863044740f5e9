import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  BOOTSTRAP_PATH,
  bootSettingsFor,
  PEERS_ENV_PATH,
  TLS_SETTINGS_PATH,
  UPDATE_CONF_PATH,
} from "../../src/render/bootSettings.js";
import { bootstrapScript } from "../../src/render/bootstrapScript.js";
import { BOOT_SETTINGS_PATH, INSTANCE_TAG } from "../../src/render/contract.js";
import { decodeDataUrl } from "../../src/render/dataUrl.js";
import {
  readBootSettingsFromUserData,
  readUserDataFile,
  renderUserData,
} from "../../src/render/userData.js";
import { coreosLegacySpec, devSpec, prodSpec, tlsSpec } from "./specs.js";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

interface IgnitionFile {
  path: string;
  mode: number;
  contents: { source: string };
}
interface IgnitionUnit {
  name: string;
  enabled?: boolean;
  contents?: string;
  dropins?: { name: string; contents: string }[];
}
interface Ignition {
  ignition: { version: string };
  storage: { files: IgnitionFile[]; filesystems: { device: string; label: string }[] };
  systemd: { units: IgnitionUnit[] };
}

function ignitionFile(config: Ignition, path: string): { mode: number; text: string } {
  const file = config.storage.files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path}`);
  return { mode: file.mode, text: decodeDataUrl(file.contents.source) };
}

describe("Ignition user-data (flatcar)", () => {
  const text = renderUserData(prodSpec());
  const config = JSON.parse(text) as Ignition;

  it("is Ignition 3 JSON", () => {
    expect(config.ignition.version).toMatch(/^3\.[34]\.0$/);
  });

  it("turns updates off through update.conf, not by masking update-engine", () => {
    expect(ignitionFile(config, UPDATE_CONF_PATH).text).toBe("SERVER=disabled\n");
    expect(text).not.toMatch(/update-engine/);
  });

  it("round-trips the boot settings through readBootSettingsFromUserData", () => {
    expect(readBootSettingsFromUserData(b64(text))).toEqual(bootSettingsFor(prodSpec()));
  });

  it("installs the bootstrap script executable and a oneshot unit that runs it", () => {
    const script = ignitionFile(config, BOOTSTRAP_PATH);
    expect(script.mode).toBe(0o755);
    expect(script.text).toBe(bootstrapScript());
    const unit = config.systemd.units.find((u) => u.name === "quorate-bootstrap.service");
    expect(unit?.enabled).toBe(true);
    expect(unit?.contents).toContain("Type=oneshot");
    expect(unit?.contents).toContain(`ExecStart=${BOOTSTRAP_PATH}`);
  });

  it("configures etcd-member through a drop-in that reads the settings and the peers file", () => {
    const etcd = config.systemd.units.find((u) => u.name === "etcd-member.service");
    expect(etcd?.enabled).toBeUndefined();
    const dropIn = etcd?.dropins?.[0]?.contents ?? "";
    expect(dropIn).toContain(`EnvironmentFile=${BOOT_SETTINGS_PATH}`);
    expect(dropIn).toContain(`EnvironmentFile=${PEERS_ENV_PATH}`);
    expect(dropIn).toContain("Environment=ETCD_IMAGE_TAG=v3.5.17");
    expect(dropIn).not.toContain(TLS_SETTINGS_PATH);
  });

  it("formats and mounts the data volume at the etcd data directory", () => {
    expect(config.storage.filesystems).toEqual([
      { device: "/dev/xvdb", format: "ext4", label: "etcd-data", wipeFilesystem: false },
    ]);
    const mount = config.systemd.units.find((u) => u.name === "var-lib-etcd.mount");
    expect(mount?.contents).toContain("Where=/var/lib/etcd");
  });

  it("adds the TLS settings only when TLS is on", () => {
    const tls = JSON.parse(renderUserData(tlsSpec())) as Ignition;
    expect(ignitionFile(tls, TLS_SETTINGS_PATH).text).toBe(
      "QUORATE_TLS_PARAMETER_PREFIX=/quorate/prod/\n",
    );
    const dropIn = tls.systemd.units.find((u) => u.name === "etcd-member.service")?.dropins?.[0];
    expect(dropIn?.contents).toContain(`EnvironmentFile=${TLS_SETTINGS_PATH}`);
    expect(readBootSettingsFromUserData(b64(JSON.stringify(tls))).scheme).toBe("https");
    expect(readUserDataFile(text, TLS_SETTINGS_PATH).content).toBeUndefined();
  });

  it("is byte-identical for the same spec", () => {
    expect(renderUserData(prodSpec())).toBe(text);
  });
});

describe("cloud-config user-data (coreos-legacy)", () => {
  const text = renderUserData(coreosLegacySpec());
  const config = parseYaml(text, { version: "1.1" }) as {
    coreos: { update: Record<string, unknown>; units: { name: string; content?: string }[] };
    write_files: { path: string; permissions: string; content: string }[];
  };

  it("starts with #cloud-config and turns reboots off", () => {
    expect(text.startsWith("#cloud-config\n")).toBe(true);
    expect(config.coreos.update["reboot-strategy"]).toBe("off");
  });

  it("round-trips the boot settings through readBootSettingsFromUserData", () => {
    expect(readBootSettingsFromUserData(b64(text))).toEqual(bootSettingsFor(coreosLegacySpec()));
  });

  it("writes the bootstrap script executable and has the same units", () => {
    const script = config.write_files.find((f) => f.path === BOOTSTRAP_PATH);
    expect(script?.permissions).toBe("0755");
    expect(script?.content).toBe(bootstrapScript());
    expect(config.coreos.units.map((u) => u.name)).toEqual([
      "quorate-format-data.service",
      "var-lib-etcd.mount",
      "etcd-member.service",
      "quorate-bootstrap.service",
      "systemd-timesyncd.service",
    ]);
  });
});

describe("bootstrap script", () => {
  const dir = mkdtempSync(join(tmpdir(), "quorate-bootstrap-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function syntaxCheck(text: string) {
    const file = join(dir, "script.sh");
    writeFileSync(file, text);
    return spawnSync("sh", ["-n", file], { encoding: "utf8" });
  }

  it("passes sh -n (and sh -n does reject a broken script)", () => {
    const ok = syntaxCheck(bootstrapScript());
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(syntaxCheck(`${bootstrapScript()}\nif then fi\n`).status).not.toBe(0);
  });

  it("reads the contract's peer-list tags and uses IMDSv2", () => {
    const script = bootstrapScript();
    for (const key of [
      INSTANCE_TAG.initialClusterState,
      INSTANCE_TAG.initialClusterToken,
      INSTANCE_TAG.initialClusterParts,
      INSTANCE_TAG.initialClusterPartPrefix,
    ]) {
      expect(script).toContain(key);
    }
    expect(script).toContain('-X PUT \\\n    -H "X-aws-ec2-metadata-token-ttl-seconds');
    expect(script).toContain("cloudformation signal-resource");
  });

  it("is the same script in every cluster's user-data", () => {
    const scripts = [devSpec(), prodSpec(), tlsSpec(), coreosLegacySpec()].map(
      (spec) => readUserDataFile(renderUserData(spec), BOOTSTRAP_PATH).content,
    );
    expect(new Set(scripts).size).toBe(1);
  });
});
