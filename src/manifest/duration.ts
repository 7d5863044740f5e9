// ISO 8601 durations in the subset CloudFormation accepts for PauseTime and
// ResourceSignal Timeout (PT#H#M#S), which the manifest uses for every duration.

const ISO_DURATION = /^PT(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/;

/** Milliseconds in an ISO 8601 duration such as PT15M, or undefined when malformed. */
export function parseIsoDuration(text: string): number | undefined {
  const match = ISO_DURATION.exec(text);
  if (!match) return undefined;
  const [, hours = "0", minutes = "0", seconds = "0"] = match;
  return ((Number(hours) * 60 + Number(minutes)) * 60 + Number(seconds)) * 1000;
}

/** Like parseIsoDuration, for values already validated by the schema. */
export function durationMs(text: string): number {
  const ms = parseIsoDuration(text);
  if (ms === undefined) throw new Error(`not an ISO 8601 duration: ${text}`);
  return ms;
}
