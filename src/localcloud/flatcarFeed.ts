// A stand-in for Flatcar's release feed
// (https://<channel>.release.flatcar-linux.net/<amd64-usr|arm64-usr>/<version>/flatcar_production_ami_all.json,
// shape {"amis":[{"name":"<region>","hvm":"ami-..."}]}). Every version exists
// locally, with AMI ids derived from channel, version and region, so a demo
// can bump versions freely and get the same ids every time.
import { sha256Hex } from "./ids.js";

/** /_flatcar/[<board>/]<channel>/<version>/...: without a board, amd64-usr. */
export const FEED_PATH =
  /^\/_flatcar\/(?:(amd64-usr|arm64-usr)\/)?([a-z]+)\/([A-Za-z0-9._-]+)\/flatcar_production_ami_all\.json$/;

export const FEED_REGIONS = [
  "af-south-1",
  "ap-east-1",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-southeast-1",
  "ap-southeast-2",
  "ca-central-1",
  "eu-central-1",
  "eu-north-1",
  "eu-south-1",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "me-south-1",
  "sa-east-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
] as const;

/** amd64 ids are what they always were; arm64 ids hash the board in as well. */
export function localAmiId(
  channel: string,
  version: string,
  region: string,
  board = "amd64-usr",
): string {
  const key = board === "amd64-usr" ? "" : `${board}/`;
  return `ami-${sha256Hex(`${key}${channel}/${version}/${region}`).slice(0, 17)}`;
}

export function feedDocument(
  channel: string,
  version: string,
  board = "amd64-usr",
): { amis: { name: string; hvm: string }[] } {
  return {
    amis: FEED_REGIONS.map((name) => ({ name, hvm: localAmiId(channel, version, name, board) })),
  };
}

/** The feed URL template (for the renderer's AMI feed option) of a local cloud at `endpoint`. */
export function feedUrlTemplate(endpoint: string): string {
  return `${endpoint}/_flatcar/{arch}/{channel}/{version}/flatcar_production_ami_all.json`;
}
