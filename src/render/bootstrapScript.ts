// The instance bootstrap (POSIX sh). It is the same text for every cluster:
// everything cluster-specific comes from the settings file, so the script can
// be read, linted and tested once.

import {
  PEERS_ENV_PATH,
  RESTORE_SCRIPT_PATH,
  RESTORE_SETTINGS_PATH,
  TLS_DIR,
  TLS_SETTINGS_PATH,
} from "./bootSettings.js";
import { BOOT_SETTINGS_PATH, INSTANCE_TAG, STACK_TAG } from "./contract.js";

/**
 * Pinned, so that what an instance runs is fixed by the template hash.
 * https://docs.aws.amazon.com/cli/latest/userguide/getting-started-docker.html
 */
export const AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.22.0";

export function bootstrapScript(): string {
  return `#!/bin/sh
# quorate bootstrap (run on every boot by quorate-bootstrap.service): starts
# etcd with the peer list quorate publishes as instance tags (read through
# IMDS, so no AWS permission is needed), and signals CloudFormation only once
# the member is healthy and voting.
set -eu

# QUORATE_ROOT/IMDS_ENDPOINT/POLL_SECONDS are for quorate's tests only.
ROOT=\${QUORATE_ROOT:-}
SETTINGS=$ROOT${BOOT_SETTINGS_PATH}
TLS_SETTINGS=$ROOT${TLS_SETTINGS_PATH}
PEERS=$ROOT${PEERS_ENV_PATH}
RESTORE_SETTINGS=$ROOT${RESTORE_SETTINGS_PATH}
TLS_DIR=$ROOT${TLS_DIR}
STATE_DIR=$ROOT/var/lib/quorate
IMDS=\${QUORATE_IMDS_ENDPOINT:-http://169.254.169.254}/latest
AWS_CLI_IMAGE=${AWS_CLI_IMAGE}
POLL_SECONDS=\${QUORATE_POLL_SECONDS:-5}

log() { echo "quorate-bootstrap: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# shellcheck source=/dev/null
. "$SETTINGS"
if [ -f "$TLS_SETTINGS" ]; then
  # shellcheck source=/dev/null
  . "$TLS_SETTINGS"
fi

# IMDSv2 only (HttpTokens=required): each read takes a session token. Quiet:
# a tag not there yet is a 404; the loops below log what they wait for.
imds() {
  imds_token=$(curl -fs --max-time 5 -X PUT \\
    -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$IMDS/api/token") || return 1
  curl -fs --max-time 5 -H "X-aws-ec2-metadata-token: $imds_token" "$IMDS/$1"
}

# Flatcar has neither cfn-signal nor Python: AWS calls run in the AWS CLI
# container, with the instance role's credentials from IMDS (hop limit 2).
aws() {
  docker run --rm --network host "$AWS_CLI_IMAGE" "$@"
}

until INSTANCE_ID=$(imds meta-data/instance-id); do
  log "waiting for the instance metadata service"
  sleep "$POLL_SECONDS"
done
until LOCAL_IP=$(imds meta-data/local-ipv4); do sleep "$POLL_SECONDS"; done

tag() { imds "meta-data/tags/instance/$1"; }

# Tags can appear one at a time: wait until every part is there.
read_peer_list() {
  CLUSTER_STATE=$(tag ${INSTANCE_TAG.initialClusterState}) || return 1
  CLUSTER_TOKEN=$(tag ${INSTANCE_TAG.initialClusterToken}) || return 1
  PARTS=$(tag ${INSTANCE_TAG.initialClusterParts}) || return 1
  case "$CLUSTER_STATE" in new | existing) ;; *) return 1 ;; esac
  case "$PARTS" in '' | *[!0-9]*) return 1 ;; esac
  [ "$PARTS" -ge 1 ] || return 1
  INITIAL_CLUSTER=""
  i=0
  while [ "$i" -lt "$PARTS" ]; do
    part=$(tag "${INSTANCE_TAG.initialClusterPartPrefix}$i") || return 1
    INITIAL_CLUSTER="$INITIAL_CLUSTER$part"
    i=$((i + 1))
  done
}
until read_peer_list; do
  log "waiting for quorate to publish the peer list (instance tags)"
  sleep "$POLL_SECONDS"
done
log "peer list: state=$CLUSTER_STATE initial-cluster=$INITIAL_CLUSTER"

# TLS files come from SSM under the manifest's prefix (all the role may read).
# Each file is created under umask 077, so a private key is never readable by
# anyone else, not even between its creation and a chmod; only the
# certificates are opened up afterwards.
CURL_TLS=""
if [ "$QUORATE_SCHEME" = https ]; then
  mkdir -p "$TLS_DIR"
  for file in ca.crt server.crt server.key peer.crt peer.key; do
    until (umask 077 && aws ssm get-parameter --region "$QUORATE_REGION" \\
      --name "$QUORATE_TLS_PARAMETER_PREFIX$file" --with-decryption \\
      --query Parameter.Value --output text >"$TLS_DIR/$file.tmp"); do
      log "waiting for SSM parameter $QUORATE_TLS_PARAMETER_PREFIX$file"
      sleep "$POLL_SECONDS"
    done
    mv "$TLS_DIR/$file.tmp" "$TLS_DIR/$file"
  done
  chmod 0644 "$TLS_DIR"/*.crt
  # etcd runs as the etcd user inside its container.
  if id etcd >/dev/null 2>&1; then chown etcd "$TLS_DIR"/*; fi
  CURL_TLS="--cacert $TLS_DIR/ca.crt --cert $TLS_DIR/server.crt --key $TLS_DIR/server.key"
fi

PEER_URL="$QUORATE_SCHEME://$LOCAL_IP:$QUORATE_PEER_PORT"
CLIENT_URL="$QUORATE_SCHEME://$LOCAL_IP:$QUORATE_CLIENT_PORT"
# A restore (spec.restore): the members of the restore's new group start one
# new cluster from the snapshot quorate pinned (restoreScript, only on such
# members). Only a member of that new cluster restores, and only into an
# empty data directory: a member added later joins as any other does, and a
# reboot keeps the data it has.
DATA_DIR=$ROOT$ETCD_DATA_DIR
if [ -f "$RESTORE_SETTINGS" ] && [ "$CLUSTER_STATE" = new ] && [ ! -d "$DATA_DIR/member" ]; then
  # shellcheck source=/dev/null
  . "$RESTORE_SETTINGS"
  # shellcheck source=/dev/null
  . "$ROOT${RESTORE_SCRIPT_PATH}"
fi

mkdir -p "$(dirname "$PEERS")"
{
  # Named after the instance, so quorate maps members to instances.
  echo "ETCD_NAME=$INSTANCE_ID"
  echo "ETCD_INITIAL_CLUSTER=$INITIAL_CLUSTER"
  echo "ETCD_INITIAL_CLUSTER_STATE=$CLUSTER_STATE"
  echo "ETCD_INITIAL_CLUSTER_TOKEN=$CLUSTER_TOKEN"
  echo "ETCD_INITIAL_ADVERTISE_PEER_URLS=$PEER_URL"
  echo "ETCD_LISTEN_PEER_URLS=$PEER_URL"
  echo "ETCD_ADVERTISE_CLIENT_URLS=$CLIENT_URL"
  echo "ETCD_LISTEN_CLIENT_URLS=$CLIENT_URL"
  if [ "$QUORATE_SCHEME" = https ]; then
    echo "ETCD_TRUSTED_CA_FILE=$TLS_DIR/ca.crt"
    echo "ETCD_CERT_FILE=$TLS_DIR/server.crt"
    echo "ETCD_KEY_FILE=$TLS_DIR/server.key"
    echo "ETCD_CLIENT_CERT_AUTH=true"
    echo "ETCD_PEER_TRUSTED_CA_FILE=$TLS_DIR/ca.crt"
    echo "ETCD_PEER_CERT_FILE=$TLS_DIR/peer.crt"
    echo "ETCD_PEER_KEY_FILE=$TLS_DIR/peer.key"
    echo "ETCD_PEER_CLIENT_CERT_AUTH=true"
  fi
} >"$PEERS.tmp"
mv "$PEERS.tmp" "$PEERS"

# --no-block: waiting for a job from inside a start job can deadlock.
systemctl start --no-block etcd-member.service

healthy() {
  # shellcheck disable=SC2086 # CURL_TLS is a list of options
  curl -fs --max-time 5 $CURL_TLS "$CLIENT_URL/health" | grep -q '"health": *"true"'
}

# A learner does not vote: the gateway omits isLearner when it is false.
voting() {
  # shellcheck disable=SC2086
  status=$(curl -fs --max-time 5 $CURL_TLS -X POST -d '{}' \\
    "$CLIENT_URL/v3/maintenance/status") || return 1
  case "$status" in *'"header"'*) ;; *) return 1 ;; esac
  ! printf '%s' "$status" | grep -Eq '"isLearner": *true'
}

# Wait until the member is healthy and promoted. If etcd exits or is never
# promoted, no signal is sent and CloudFormation's PauseTime fails the batch.
# etcd-member.service restarts etcd (Restart=always): restarts before the
# member is first healthy are start-up retries (an image pull); one after that
# is a failed member. (systemd < 235 prints no NRestarts.)
restarts() { systemctl show --property NRestarts --value etcd-member.service; }
started=no
restarts_when_healthy=""
while :; do
  if healthy; then
    if [ -z "$restarts_when_healthy" ]; then
      restarts_when_healthy=$(restarts)
      log "etcd member $INSTANCE_ID is healthy; waiting until it is a voting member"
    fi
    if voting; then break; fi
  fi
  state=$(systemctl show --property ActiveState --value etcd-member.service)
  case "$state" in
  failed) die "etcd-member.service failed; not signalling success" ;;
  inactive | deactivating)
    [ "$started" = no ] || die "etcd-member.service stopped; not signalling success"
    ;;
  *) started=yes ;;
  esac
  now=$(restarts)
  if [ -n "$restarts_when_healthy" ] && [ "$now" != "$restarts_when_healthy" ]; then
    die "etcd exited after it was healthy (restarts: $now); not signalling success"
  fi
  sleep "$POLL_SECONDS"
done
log "etcd member $INSTANCE_ID is healthy and voting"

# One signal per instance: a reboot must not signal again.
if [ -f "$STATE_DIR/signalled" ]; then
  log "already signalled on an earlier boot"
  exit 0
fi
attempt=1
until aws cloudformation signal-resource --region "$QUORATE_REGION" \\
  --stack-name "$QUORATE_STACK_NAME" --logical-resource-id "$QUORATE_SIGNAL_RESOURCE" \\
  --unique-id "$INSTANCE_ID" --status SUCCESS; do
  [ "$attempt" -lt 10 ] || die "could not signal $QUORATE_SIGNAL_RESOURCE of $QUORATE_STACK_NAME"
  attempt=$((attempt + 1))
  sleep "$POLL_SECONDS"
done
mkdir -p "$STATE_DIR"
touch "$STATE_DIR/signalled"
log "signalled $QUORATE_SIGNAL_RESOURCE of $QUORATE_STACK_NAME"
`;
}

/**
 * The restore step, sourced by the bootstrap on a restore's members only (so
 * the user-data of every other stack stays well under EC2's 16 KB). It uses
 * the bootstrap's functions and variables: tag, aws, log, die, DATA_DIR.
 */
export function restoreScript(): string {
  return `# shellcheck shell=sh
# shellcheck disable=SC2154 # sourced by the quorate bootstrap, which sets these
until SNAPSHOT_KEY=$(tag ${STACK_TAG.restoreSnapshot}) && SNAPSHOT_SHA256=$(tag ${STACK_TAG.restoreSha256}); do
  log "waiting for the restore's snapshot (stack tags ${STACK_TAG.restoreSnapshot}, ${STACK_TAG.restoreSha256})"
  sleep "$POLL_SECONDS"
done
WORK=$DATA_DIR/quorate-restore
rm -rf "$WORK"
mkdir -p "$WORK"
until aws s3 cp --region "$QUORATE_REGION" --only-show-errors \\
  "s3://$QUORATE_RESTORE_BUCKET/$SNAPSHOT_KEY" - >"$WORK/snapshot.db"; do
  log "could not read s3://$QUORATE_RESTORE_BUCKET/$SNAPSHOT_KEY; retrying"
  sleep "$POLL_SECONDS"
done
got=$(sha256sum "$WORK/snapshot.db" | cut -d ' ' -f 1)
[ "$got" = "$SNAPSHOT_SHA256" ] ||
  die "s3://$QUORATE_RESTORE_BUCKET/$SNAPSHOT_KEY has sha256 $got, quorate pinned $SNAPSHOT_SHA256; not restoring"
# The restore tool comes from the etcd image the member runs, so its
# on-disk format is the member's own.
docker run --rm --network host -e ETCDCTL_API=3 -v "$DATA_DIR:$DATA_DIR" --entrypoint "$QUORATE_RESTORE_TOOL" \\
  "$QUORATE_ETCD_IMAGE" snapshot restore "$WORK/snapshot.db" --name "$INSTANCE_ID" \\
  --initial-cluster "$INITIAL_CLUSTER" --initial-cluster-token "$CLUSTER_TOKEN" \\
  --initial-advertise-peer-urls "$PEER_URL" --data-dir "$WORK/data" ||
  die "$QUORATE_RESTORE_TOOL snapshot restore of $SNAPSHOT_KEY failed"
mv "$WORK/data/member" "$DATA_DIR/member"
rm -rf "$WORK"
log "restored $SNAPSHOT_KEY (restore $QUORATE_RESTORE_ID) into $DATA_DIR"
`;
}
