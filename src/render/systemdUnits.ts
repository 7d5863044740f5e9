// systemd units shared by the Ignition and cloud-config user-data.
import type { ClusterSpec } from "../manifest/types.js";
import {
  BOOTSTRAP_PATH,
  DATA_VOLUME_LABEL,
  ETCD_DATA_DIR,
  etcdImageOf,
  PEERS_ENV_PATH,
  TLS_SETTINGS_PATH,
} from "./bootSettings.js";
import { BOOT_SETTINGS_PATH } from "./contract.js";

export const BOOTSTRAP_UNIT = "quorate-bootstrap.service";
export const ETCD_UNIT = "etcd-member.service";
export const ETCD_DROPIN = "20-quorate.conf";
/** systemd names a mount unit after its path: /var/lib/etcd -> var-lib-etcd.mount. */
export const DATA_MOUNT_UNIT = `${ETCD_DATA_DIR.slice(1).replaceAll("/", "-")}.mount`;
/** Only for cloud-config, which cannot create filesystems the way Ignition does. */
export const FORMAT_UNIT = "quorate-format-data.service";

export function bootstrapUnit(): string {
  return `[Unit]
Description=quorate bootstrap: start the etcd member and signal CloudFormation
Wants=network-online.target docker.service
After=network-online.target docker.service ${DATA_MOUNT_UNIT}

[Service]
Type=oneshot
RemainAfterExit=yes
# Waiting for the peer list and for promotion has no fixed bound here;
# CloudFormation's PauseTime bounds it from outside.
TimeoutStartSec=0
ExecStart=${BOOTSTRAP_PATH}

[Install]
WantedBy=multi-user.target
`;
}

/**
 * Drop-in for Flatcar's etcd-member.service (etcd-wrapper, which runs the etcd
 * image named by ETCD_IMAGE_TAG with the ETCD_* environment). The unit is not
 * enabled: only the bootstrap starts it, once the peers file exists, and the
 * peers EnvironmentFile= has no "-" so etcd never starts without it.
 */
export function etcdDropIn(spec: ClusterSpec): string {
  const tls = spec.etcd.tls.enabled ? `EnvironmentFile=${TLS_SETTINGS_PATH}\n` : "";
  return `[Unit]
RequiresMountsFor=${ETCD_DATA_DIR}

[Service]
Environment=ETCD_IMAGE_TAG=v${spec.etcd.version}
Environment=ETCD_IMAGE=${etcdImage(spec)}
EnvironmentFile=${BOOT_SETTINGS_PATH}
${tls}EnvironmentFile=${PEERS_ENV_PATH}
`;
}

/**
 * The etcd image the member runs. etcd-wrapper runs
 * \${ETCD_IMAGE:-\${ETCD_IMAGE_URL}:\${ETCD_IMAGE_TAG}}; naming the whole image
 * makes the manifest's version independent of the registry Flatcar defaults
 * to (ETCD_IMAGE_URL, which older units do not set at all). The tag without
 * an arch suffix is etcd's multi-arch manifest list.
 */
export function etcdImage(spec: ClusterSpec): string {
  return etcdImageOf(spec.etcd.version);
}

export function dataMountUnit(): string {
  return `[Unit]
Description=etcd data volume
Before=${ETCD_UNIT}

[Mount]
What=/dev/disk/by-label/${DATA_VOLUME_LABEL}
Where=${ETCD_DATA_DIR}
Type=ext4

[Install]
WantedBy=local-fs.target
`;
}

/**
 * Formats the data volume once, when it has no filesystem yet (cloud-config only).
 * DefaultDependencies=no, as systemd-makefs@.service has: the default
 * After=sysinit.target would order it after local-fs.target, which wants the
 * mount this unit must precede, and that is a cycle systemd cannot break.
 */
export function formatDataUnit(spec: ClusterSpec): string {
  const device = spec.etcd.dataVolume.deviceName;
  const deviceUnit = `${device.slice(1).replaceAll("/", "-")}.device`;
  return `[Unit]
Description=Format the etcd data volume if it is blank
DefaultDependencies=no
BindsTo=${deviceUnit}
After=${deviceUnit}
Before=${DATA_MOUNT_UNIT} shutdown.target
Conflicts=shutdown.target
ConditionPathExists=!/dev/disk/by-label/${DATA_VOLUME_LABEL}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'blkid ${device} || mkfs.ext4 -L ${DATA_VOLUME_LABEL} ${device}'

[Install]
WantedBy=${DATA_MOUNT_UNIT}
`;
}
