// The rendered user-data really runs the manifest's etcd version on Flatcar:
// the environment etcd-member.service gets is built as systemd builds it
// (Flatcar's unit, then quorate's drop-in; EnvironmentFile= over Environment=),
// and etcd-wrapper's own expression for the image is evaluated by bash on it.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BOOT_SETTINGS_PATH } from "../../src/render/contract.js";
import { decodeDataUrl } from "../../src/render/dataUrl.js";
import { renderUserData } from "../../src/render/userData.js";
import { devSpec } from "./specs.js";

const FLATCAR_UNIT = readFileSync(
  new URL("../fixtures/systemd/etcd-member.service", import.meta.url),
  "utf8",
);
// From Flatcar's /usr/lib/flatcar/etcd-wrapper (the docker run line).
// biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expression, evaluated by bash
const WRAPPER_IMAGE = "${ETCD_IMAGE:-${ETCD_IMAGE_URL}:${ETCD_IMAGE_TAG}}";

interface Ignition {
  storage: { files: { path: string; contents: { source: string } }[] };
  systemd: { units: { name: string; dropins?: { contents: string }[] }[] };
}

/** systemd's Environment= lines of a unit text, in order ("KEY=VALUE", quotes removed). */
function environmentLines(unit: string): [string, string][] {
  return unit
    .split("\n")
    .filter((l) => l.startsWith("Environment="))
    .map((l) => l.slice("Environment=".length).replace(/^"(.*)"$/, "$1"))
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]);
}

function envFileLines(text: string): [string, string][] {
  return text
    .split("\n")
    .filter((l) => l.includes("=") && !l.startsWith("#"))
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]);
}

function imageRun(version: string): string {
  const spec = devSpec();
  spec.etcd.version = version;
  const ignition = JSON.parse(renderUserData(spec)) as Ignition;
  const dropIn =
    ignition.systemd.units.find((u) => u.name === "etcd-member.service")?.dropins?.[0]?.contents ??
    "";
  const settings = ignition.storage.files.find((f) => f.path === BOOT_SETTINGS_PATH);
  const env = new Map<string, string>();
  // Environment= of the unit, then of its drop-ins: a later assignment wins.
  for (const [k, v] of [...environmentLines(FLATCAR_UNIT), ...environmentLines(dropIn)]) {
    env.set(k, v);
  }
  // EnvironmentFile= overrides Environment= (systemd.exec(5)); the peers file holds
  // only what the bootstrap writes (ETCD_NAME, URLs, the initial cluster).
  for (const [k, v] of envFileLines(decodeDataUrl(settings?.contents.source ?? ""))) {
    env.set(k, v);
  }
  return execFileSync("bash", ["-c", `printf %s "${WRAPPER_IMAGE}"`], {
    env: Object.fromEntries(env),
    encoding: "utf8",
  });
}

describe("the etcd image a Flatcar member runs", () => {
  it.each(["3.5.17", "3.5.26", "3.6.5", "3.4.23"])("is etcd %s, as the manifest says", (v) => {
    expect(imageRun(v)).toBe(`quay.io/coreos/etcd:v${v}`);
  });
});
