// The inverse of renderUserData: finds the boot settings file in rendered
// user-data. The local cloud uses it to boot its instances with exactly the
// settings the real bootstrap would read.
import { parse as parseYaml } from "yaml";
import { terminal } from "../errors.js";
import { RESTORE_SETTINGS_PATH } from "./bootSettings.js";
import { BOOT_SETTINGS_PATH, type BootSettings, decodeBootSettings } from "./contract.js";
import { decodeDataUrl } from "./dataUrl.js";

export type UserDataFormat = "ignition" | "cloud-config";

/** Returns the text of the file at `path` written by the user-data, or undefined. */
export function readUserDataFile(
  userDataText: string,
  path: string,
): { format: UserDataFormat; content: string | undefined } {
  const trimmed = userDataText.trimStart();
  if (trimmed.startsWith("#cloud-config")) {
    return { format: "cloud-config", content: cloudConfigFile(trimmed, path) };
  }
  if (trimmed.startsWith("{")) {
    return { format: "ignition", content: ignitionFile(trimmed, path) };
  }
  throw terminal(
    "user-data is neither Ignition JSON nor #cloud-config",
    "render the launch template with quorate, which writes one of the two",
  );
}

/** Decodes base64 user-data (as a launch template holds it) and reads its boot settings. */
export function readBootSettingsFromUserData(userDataBase64: string): BootSettings {
  const text = Buffer.from(userDataBase64, "base64").toString("utf8");
  const { format, content } = readUserDataFile(text, BOOT_SETTINGS_PATH);
  if (content === undefined) {
    throw terminal(
      `${format} user-data does not write ${BOOT_SETTINGS_PATH}`,
      "render the launch template with quorate, whose user-data carries the etcd settings",
    );
  }
  try {
    return decodeBootSettings(content);
  } catch (error) {
    throw terminal(
      `${BOOT_SETTINGS_PATH} in the user-data is invalid: ${(error as Error).message}`,
      "re-render the stack with this version of quorate",
      error,
    );
  }
}

/** What spec.restore puts on a member (bootSettings.ts restoreSettingsFor). */
export interface RestoreSettings {
  id: string;
  bucket: string;
  tool: "etcdutl" | "etcdctl";
  etcdImage: string;
}

/** The restore settings in base64 user-data, or undefined when it declares no restore. */
export function readRestoreSettingsFromUserData(
  userDataBase64: string,
): RestoreSettings | undefined {
  const text = Buffer.from(userDataBase64, "base64").toString("utf8");
  const { content } = readUserDataFile(text, RESTORE_SETTINGS_PATH);
  if (content === undefined) return undefined;
  const env = new Map(
    content
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
  const id = env.get("QUORATE_RESTORE_ID");
  const bucket = env.get("QUORATE_RESTORE_BUCKET");
  const tool = env.get("QUORATE_RESTORE_TOOL");
  const etcdImage = env.get("QUORATE_ETCD_IMAGE");
  if (!id || !bucket || (tool !== "etcdutl" && tool !== "etcdctl") || !etcdImage) {
    throw terminal(
      `${RESTORE_SETTINGS_PATH} in the user-data is incomplete`,
      "re-render the stack with this version of quorate",
    );
  }
  return { id, bucket, tool, etcdImage };
}

function ignitionFile(text: string, path: string): string | undefined {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (error) {
    throw terminal(
      `user-data looks like Ignition but is not valid JSON: ${(error as Error).message}`,
      "render the launch template with quorate",
      error,
    );
  }
  const files = (config as { storage?: { files?: unknown } }).storage?.files;
  if (!Array.isArray(files)) return undefined;
  for (const file of files as { path?: unknown; contents?: { source?: unknown } }[]) {
    if (file?.path !== path) continue;
    const source = file.contents?.source;
    if (typeof source !== "string") return "";
    return decodeDataUrl(source);
  }
  return undefined;
}

function cloudConfigFile(text: string, path: string): string | undefined {
  let config: unknown;
  try {
    config = parseYaml(text);
  } catch (error) {
    throw terminal(
      `user-data looks like cloud-config but is not valid YAML: ${(error as Error).message}`,
      "render the launch template with quorate",
      error,
    );
  }
  const files = (config as { write_files?: unknown } | null)?.write_files;
  if (!Array.isArray(files)) return undefined;
  for (const file of files as { path?: unknown; content?: unknown; encoding?: unknown }[]) {
    if (file?.path !== path) continue;
    const content = typeof file.content === "string" ? file.content : "";
    const encoding = typeof file.encoding === "string" ? file.encoding : "";
    return ["b64", "base64"].includes(encoding)
      ? Buffer.from(content, "base64").toString("utf8")
      : content;
  }
  return undefined;
}
