// The etcd version step a change makes, read from the two templates (the
// version is in the launch template's user-data, in the boot settings file),
// and judged by etcd's version rules. Pure; nothing here throws.
import { checkVersionStep, type VersionVerdict } from "../etcd/versionRules.js";
import { BOOT_SETTINGS_PATH, decodeBootSettings, LOGICAL_ID } from "../render/contract.js";
import { readUserDataFile } from "../render/readUserData.js";
import type { EtcdVersionStep } from "./model.js";
import { isRecord, propertiesOf, resourcesOf } from "./template.js";

/** The etcd version a rendered template's members run, or undefined when it cannot be read. */
export function etcdVersionOfTemplate(template: unknown): string | undefined {
  const data = propertiesOf(
    resourcesOf(template).get(LOGICAL_ID.launchTemplate),
  ).LaunchTemplateData;
  const userData = isRecord(data) ? data.UserData : undefined;
  const text = isRecord(userData) ? userData["Fn::Base64"] : undefined;
  if (typeof text !== "string") return undefined;
  try {
    const { content } = readUserDataFile(text, BOOT_SETTINGS_PATH);
    return content === undefined ? undefined : decodeBootSettings(content).etcdVersion;
  } catch {
    return undefined;
  }
}

/** The step from the live (or base) template's version to the desired one; undefined when unchanged or unknown. */
export function etcdVersionStep(live: unknown, desired: unknown): EtcdVersionStep | undefined {
  const from = etcdVersionOfTemplate(live);
  const to = etcdVersionOfTemplate(desired);
  if (from === undefined || to === undefined || from === to) return undefined;
  return fromVerdict(checkVersionStep(from, to));
}

export function fromVerdict(verdict: VersionVerdict): EtcdVersionStep {
  return verdict.allowed
    ? {
        from: verdict.from,
        to: verdict.to,
        allowed: true,
        step: verdict.step,
        message: verdict.message,
      }
    : {
        from: verdict.from,
        to: verdict.to,
        allowed: false,
        rule: verdict.rule,
        message: verdict.message,
        hint: verdict.hint,
      };
}
