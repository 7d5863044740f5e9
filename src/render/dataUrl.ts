// Ignition carries file contents as RFC 2397 data URLs
// (https://coreos.github.io/ignition/configuration-v3_3/ : contents.source).

/**
 * `data:,` and the percent-encoded text, or `data:;base64,` and base64 when
 * that is shorter (as Butane chooses): user-data is capped at 16 KB, and a
 * shell script percent-encodes to half again its size.
 */
export function encodeDataUrl(text: string): string {
  const percent = `data:,${encodeURIComponent(text)}`;
  const base64 = `data:;base64,${Buffer.from(text, "utf8").toString("base64")}`;
  return base64.length < percent.length ? base64 : percent;
}

/** Decodes a `data:` URL, plain (percent-encoded) or `;base64`. */
export function decodeDataUrl(url: string): string {
  if (!url.startsWith("data:")) throw new Error(`not a data URL: ${url.slice(0, 40)}`);
  const comma = url.indexOf(",");
  if (comma < 0) throw new Error("data URL has no comma before its payload");
  const header = url.slice("data:".length, comma);
  const payload = url.slice(comma + 1);
  if (header.split(";").includes("base64")) return Buffer.from(payload, "base64").toString("utf8");
  return decodeURIComponent(payload);
}
