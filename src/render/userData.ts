// Instance user-data: Ignition 3 JSON for Flatcar, cloud-config for old
// Container Linux. Pure and deterministic: the text is part of the template hash.
import { stringify as stringifyYaml } from "yaml";
import type { ClusterSpec } from "../manifest/types.js";
import {
  BOOTSTRAP_PATH,
  bootSettingsFor,
  DATA_VOLUME_LABEL,
  RESTORE_SCRIPT_PATH,
  RESTORE_SETTINGS_PATH,
  restoreSettingsFor,
  TIMESYNCD_CONF_PATH,
  TLS_SETTINGS_PATH,
  timesyncdConf,
  tlsSettingsFor,
  UPDATE_CONF_PATH,
} from "./bootSettings.js";
import { bootstrapScript, restoreScript } from "./bootstrapScript.js";
import { canonicalJson } from "./canonicalJson.js";
import { BOOT_SETTINGS_PATH, encodeBootSettings } from "./contract.js";
import { encodeDataUrl } from "./dataUrl.js";
import {
  BOOTSTRAP_UNIT,
  bootstrapUnit,
  DATA_MOUNT_UNIT,
  dataMountUnit,
  ETCD_DROPIN,
  ETCD_UNIT,
  etcdDropIn,
  FORMAT_UNIT,
  formatDataUnit,
} from "./systemdUnits.js";

export { readBootSettingsFromUserData, readUserDataFile } from "./readUserData.js";

/** Flatcar has read Ignition spec 3.3.0 since release 3185. */
export const IGNITION_VERSION = "3.3.0";

interface InstanceFile {
  path: string;
  mode: number;
  content: string;
}

/** The files every member gets, in both user-data formats. */
function instanceFiles(spec: ClusterSpec): InstanceFile[] {
  const files: InstanceFile[] = [
    { path: BOOT_SETTINGS_PATH, mode: 0o644, content: encodeBootSettings(bootSettingsFor(spec)) },
    { path: BOOTSTRAP_PATH, mode: 0o755, content: bootstrapScript() },
    { path: TIMESYNCD_CONF_PATH, mode: 0o644, content: timesyncdConf(spec.image.os) },
  ];
  const tls = tlsSettingsFor(spec);
  if (tls !== undefined) files.push({ path: TLS_SETTINGS_PATH, mode: 0o644, content: tls });
  const restore = restoreSettingsFor(spec);
  if (restore !== undefined) {
    files.push({ path: RESTORE_SETTINGS_PATH, mode: 0o644, content: restore });
    files.push({ path: RESTORE_SCRIPT_PATH, mode: 0o644, content: restoreScript() });
  }
  return files;
}

/** The user-data text (not base64) for the spec's image os. */
export function renderUserData(spec: ClusterSpec): string {
  return spec.image.os === "flatcar" ? renderIgnition(spec) : renderCloudConfig(spec);
}

// https://coreos.github.io/ignition/configuration-v3_3/
function renderIgnition(spec: ClusterSpec): string {
  const files = [
    // Updates are turned off this way rather than by masking update-engine,
    // which Flatcar discourages; quorate rolls new images instead.
    { path: UPDATE_CONF_PATH, mode: 0o644, content: "SERVER=disabled\n" },
    ...instanceFiles(spec),
  ];
  const config = {
    ignition: { version: IGNITION_VERSION },
    storage: {
      filesystems: [
        {
          // Flatcar's udev rules link NVMe EBS volumes to their /dev/xvd* names.
          device: spec.etcd.dataVolume.deviceName,
          format: "ext4",
          label: DATA_VOLUME_LABEL,
          wipeFilesystem: false,
        },
      ],
      files: files.map((file) => ({
        path: file.path,
        mode: file.mode,
        overwrite: true,
        contents: { source: encodeDataUrl(file.content) },
      })),
    },
    systemd: {
      units: [
        { name: DATA_MOUNT_UNIT, enabled: true, contents: dataMountUnit() },
        { name: ETCD_UNIT, dropins: [{ name: ETCD_DROPIN, contents: etcdDropIn(spec) }] },
        { name: BOOTSTRAP_UNIT, enabled: true, contents: bootstrapUnit() },
      ],
    },
  };
  return canonicalJson(config);
}

// https://github.com/coreos/coreos-cloudinit/blob/master/Documentation/cloud-config.md
function renderCloudConfig(spec: ClusterSpec): string {
  const config = {
    coreos: {
      // Quoted: an unquoted off is a YAML 1.1 boolean.
      update: { "reboot-strategy": "off" },
      units: [
        // enable: true so that the [Install] sections also hold on later boots.
        { name: FORMAT_UNIT, enable: true, command: "start", content: formatDataUnit(spec) },
        { name: DATA_MOUNT_UNIT, enable: true, command: "start", content: dataMountUnit() },
        { name: ETCD_UNIT, "drop-ins": [{ name: ETCD_DROPIN, content: etcdDropIn(spec) }] },
        { name: BOOTSTRAP_UNIT, enable: true, command: "start", content: bootstrapUnit() },
        // cloud-config runs after timesyncd started: it reads the new servers on a restart.
        { name: "systemd-timesyncd.service", command: "restart" },
      ],
    },
    write_files: instanceFiles(spec).map((file) => ({
      path: file.path,
      permissions: `0${file.mode.toString(8)}`,
      owner: "root",
      content: file.content,
    })),
  };
  // YAML 1.1, as coreos-cloudinit reads it: strings such as "off" get quoted.
  const yaml = stringifyYaml(config, { version: "1.1", lineWidth: 0 });
  return `#cloud-config\n${yaml}`;
}
