// The few helpers every part of the dashboard writes HTML with. Cluster
// names, messages and commit subjects come from manifests and git, which
// anyone with push access writes: every such value goes through text() or
// attr(), and nothing else puts a dynamic string into the page.
import { formatBytes } from "../reconcile/backup/listing.js";
import { redactCredentials } from "../source/repoLocation.js";

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Safe in element content and in quoted attribute values alike. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** A value shown as text: escaped, and with any credentials in URLs hidden (git's errors hold them). */
export function text(value: string | number | undefined): string {
  if (value === undefined) return "";
  return escapeHtml(redactCredentials(String(value)));
}

/** ` name="value"`, escaped the same way; nothing when the value is undefined. */
export function attr(name: string, value: string | number | undefined): string {
  return value === undefined ? "" : ` ${name}="${text(value)}"`;
}

/** `<time datetime="2026-12-07T10:00:00.000Z">10:00:00</time>`, the full time on hover. */
export function time(iso: string | undefined, short = false): string {
  if (!iso) return "";
  const shown = short ? iso.slice(11, 19) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
  return `<time${attr("datetime", iso)}${attr("title", iso)}>${text(shown)}</time>`;
}

/** A revision's first 12 characters, the whole one on hover. */
export function revision(sha: string | undefined): string {
  if (!sha) return "-";
  return `<code${attr("title", sha)}>${text(sha.slice(0, 12))}</code>`;
}

/** "1.5 MiB", from the numbers of /status; "-" when the probe did not say. */
export function bytes(n: number | undefined): string {
  return n === undefined ? "-" : formatBytes(n);
}
