// The instance bootstrap (POSIX sh). It is the same text for every cluster:
// everything cluster-specific comes from the settings file, so the script can
// be read, linted and tested once.

import { PEERS_ENV_PATH, TLS_DIR, TLS_SETTINGS_PATH } from "./bootSettings.js";
import { BOOT_SETTINGS_PATH, INSTANCE_TAG } from "./contract.js";

/**
 * Pinned, so that what an instance runs is fixed by the template hash.
 * https://docs.aws.amazon.com/cli/latest/userguide/getting-started-docker.html
 */
export const AWS_CLI_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.22.0";

export function bootstrapScript(): string {
  return `#!/bin/sh
# quorate bootstrap: starts this instance's etcd member with the peer list
# quorate publishes, and tells CloudFormation the instance is ready only once
# the member is healthy and a voting member. Rendered by quorate; run on every
# boot by quorate-bootstrap.service.
#
# The peer list arrives as instance tags, written by quorate while the instance
# waits in its launching lifecycle hook, and read here through the instance
# metadata service (metadata tags are on). So the instance needs no AWS
# permission to learn its peers, and quorate stays the only writer of etcd
# membership.
set -eu

# The QUORATE_* overrides exist for quorate's own test of this script, which
# runs it against a loopback metadata service; instances never set them.
ROOT=\${QUORATE_ROOT:-}
SETTINGS=$ROOT${BOOT_SETTINGS_PATH}
TLS_SETTINGS=$ROOT${TLS_SETTINGS_PATH}
PEERS=$ROOT${PEERS_ENV_PATH}
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

# IMDSv2 only (the launch template sets HttpTokens=required): every read needs
# a session token from PUT /latest/api/token. Quiet (-s without -S): a tag that
# is not there yet is a 404, and the loops below log what they wait for.
imds() {
  imds_token=$(curl -fs --max-time 5 -X PUT \\
    -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$IMDS/api/token") || return 1
  curl -fs --max-time 5 -H "X-aws-ec2-metadata-token: $imds_token" "$IMDS/$1"
}

# Flatcar ships neither cfn-signal nor Python, so AWS calls run in the official
# AWS CLI container. It takes credentials from the instance role through IMDS
# (the launch template's hop limit of 2 lets containers reach it).
aws() {
  docker run --rm --network host "$AWS_CLI_IMAGE" "$@"
}

until INSTANCE_ID=$(imds meta-data/instance-id); do
  log "waiting for the instance metadata service"
  sleep "$POLL_SECONDS"
done
until LOCAL_IP=$(imds meta-data/local-ipv4); do sleep "$POLL_SECONDS"; done

tag() { imds "meta-data/tags/instance/$1"; }

# Tags can become visible one at a time: accept the peer list only when the
# state, the token, the part count and every numbered part are all there.
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

# With TLS, certificates come from SSM Parameter Store under the prefix the
# manifest names; the instance role may read only that prefix.
CURL_TLS=""
if [ "$QUORATE_SCHEME" = https ]; then
  mkdir -p "$TLS_DIR"
  for file in ca.crt server.crt server.key peer.crt peer.key; do
    until aws ssm get-parameter --region "$QUORATE_REGION" \\
      --name "$QUORATE_TLS_PARAMETER_PREFIX$file" --with-decryption \\
      --query Parameter.Value --output text >"$TLS_DIR/$file.tmp"; do
      log "waiting for SSM parameter $QUORATE_TLS_PARAMETER_PREFIX$file"
      sleep "$POLL_SECONDS"
    done
    mv "$TLS_DIR/$file.tmp" "$TLS_DIR/$file"
  done
  chmod 0600 "$TLS_DIR"/*.key
  # etcd runs as the etcd user inside its container.
  if id etcd >/dev/null 2>&1; then chown etcd "$TLS_DIR"/*; fi
  CURL_TLS="--cacert $TLS_DIR/ca.crt --cert $TLS_DIR/server.crt --key $TLS_DIR/server.key"
fi

PEER_URL="$QUORATE_SCHEME://$LOCAL_IP:$QUORATE_PEER_PORT"
CLIENT_URL="$QUORATE_SCHEME://$LOCAL_IP:$QUORATE_CLIENT_PORT"
mkdir -p "$(dirname "$PEERS")"
{
  # The member is named after its instance, so quorate can map members to instances.
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

# --no-block: this script runs inside a start job itself; waiting for another
# job here could deadlock on unit ordering. Readiness is checked below instead.
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

# Wait until the member is healthy and quorate has promoted it. If etcd exits,
# or is never promoted, no success signal is sent: CloudFormation's PauseTime
# then fails the batch and rolls the update back.
seen_active=no
until [ "$seen_active" = yes ] && healthy && voting; do
  state=$(systemctl show --property ActiveState --value etcd-member.service)
  case "$state" in
  active) seen_active=yes ;;
  failed) die "etcd-member.service failed; not signalling success" ;;
  *) [ "$seen_active" = no ] || die "etcd-member.service stopped ($state); not signalling success" ;;
  esac
  sleep "$POLL_SECONDS"
done
log "etcd member $INSTANCE_ID is healthy and voting"

# One success signal per instance: a later reboot must not signal again.
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
