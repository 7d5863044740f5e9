// The manifest's durations are the ISO 8601 subset CloudFormation's PauseTime
// uses (PT#H#M#S); lifecycle hooks want whole seconds.
import { terminal } from "../errors.js";

const DURATION = /^PT(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/;

export function isoDurationSeconds(duration: string): number {
  const match = DURATION.exec(duration);
  if (!match) {
    throw terminal(
      `not an ISO 8601 duration of the form PT#H#M#S: ${duration}`,
      "write it like PT10M or PT1H30M",
    );
  }
  const [, hours = "0", minutes = "0", seconds = "0"] = match;
  return Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
}
