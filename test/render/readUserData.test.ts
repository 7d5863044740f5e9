import { describe, expect, it } from "vitest";
import { QuorateError } from "../../src/errors.js";
import { bootSettingsFor } from "../../src/render/bootSettings.js";
import { BOOT_SETTINGS_PATH, encodeBootSettings } from "../../src/render/contract.js";
import { decodeDataUrl, encodeDataUrl } from "../../src/render/dataUrl.js";
import { readBootSettingsFromUserData } from "../../src/render/userData.js";
import { devSpec, tlsSpec } from "./specs.js";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

function ignitionWith(files: { path: string; source: string }[]): string {
  return JSON.stringify({
    ignition: { version: "3.3.0" },
    storage: { files: files.map((f) => ({ path: f.path, contents: { source: f.source } })) },
  });
}

describe("data URLs", () => {
  it.each([
    "",
    "A=1\nB=two words\n",
    '#!/bin/sh\nset -eu\necho "$x" 100% ,;/?:@&=+$#\n',
    "ünïcödé ✓",
  ])("round-trips %j", (text) => {
    expect(decodeDataUrl(encodeDataUrl(text))).toBe(text);
  });

  it("uses percent-encoding, or base64 when that is shorter", () => {
    expect(encodeDataUrl("SERVER=disabled\n")).toBe("data:,SERVER%3Ddisabled%0A");
    const script = "#!/bin/sh\n  echo \"$x\" | grep -q 'y z'\n".repeat(20);
    expect(encodeDataUrl(script).startsWith("data:;base64,")).toBe(true);
    expect(decodeDataUrl(encodeDataUrl(script))).toBe(script);
  });

  it("reads base64 data URLs too", () => {
    expect(decodeDataUrl(`data:text/plain;base64,${b64("hello")}`)).toBe("hello");
  });
});

describe("readBootSettingsFromUserData", () => {
  it("reads the settings file back from hand-made Ignition", () => {
    const settings = bootSettingsFor(devSpec());
    const userData = ignitionWith([
      { path: "/etc/flatcar/update.conf", source: encodeDataUrl("SERVER=disabled\n") },
      { path: BOOT_SETTINGS_PATH, source: encodeDataUrl(encodeBootSettings(settings)) },
    ]);
    expect(readBootSettingsFromUserData(b64(userData))).toEqual(settings);
  });

  it("reads the settings file back from hand-made cloud-config, plain or base64", () => {
    const settings = bootSettingsFor(tlsSpec());
    const text = encodeBootSettings(settings);
    const indented = text
      .split("\n")
      .map((l) => `      ${l}`)
      .join("\n");
    const plain = `#cloud-config\nwrite_files:\n  - path: ${BOOT_SETTINGS_PATH}\n    content: |\n${indented}\n`;
    const encoded = `#cloud-config\nwrite_files:\n  - path: ${BOOT_SETTINGS_PATH}\n    encoding: b64\n    content: ${b64(text)}\n`;
    expect(readBootSettingsFromUserData(b64(plain))).toEqual(settings);
    expect(readBootSettingsFromUserData(b64(encoded))).toEqual(settings);
  });

  it.each([
    ["neither format", "#!/bin/sh\necho hi\n", /neither Ignition JSON nor #cloud-config/],
    ["broken Ignition JSON", "{ not json", /not valid JSON/],
    ["Ignition without the file", ignitionWith([]), /does not write \/etc\/quorate\/etcd.env/],
    [
      "cloud-config without the file",
      "#cloud-config\nhostname: x\n",
      /cloud-config user-data does not write/,
    ],
    [
      "a settings file missing a key",
      ignitionWith([{ path: BOOT_SETTINGS_PATH, source: encodeDataUrl("QUORATE_CLUSTER=x\n") }]),
      /is invalid: boot settings: QUORATE_STACK_NAME is missing/,
    ],
  ])("refuses %s with a terminal error", (_name, text, message) => {
    let caught: unknown;
    try {
      readBootSettingsFromUserData(b64(text));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(QuorateError);
    expect((caught as QuorateError).kind).toBe("terminal");
    expect((caught as QuorateError).message).toMatch(message);
  });
});
