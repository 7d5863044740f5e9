// etcd client URLs in the one form quorate compares. Pure.
import { usage } from "../errors.js";

/** scheme://host:port with no path and a lower-case host; throws a usage error for anything else. */
export function normalizeEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw usage(
      `not an etcd client URL: ${endpoint}`,
      "write it like http://10.0.0.1:2379 or https://...",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw usage(`etcd client URL must be http or https: ${endpoint}`);
  }
  return `${url.protocol}//${url.host}`;
}

/** normalizeEndpoint, or the text unchanged when it is not a URL (for matching, never for calls). */
export function endpointKey(endpoint: string): string {
  try {
    return normalizeEndpoint(endpoint);
  } catch {
    return endpoint;
  }
}
