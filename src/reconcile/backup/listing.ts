// `quorate backups` output, pure: a table for people and JSON for scripts.
import type { Snapshot } from "./catalog.js";

export interface ClusterSnapshots {
  cluster: string;
  bucket: string;
  prefix: string;
  snapshots: Snapshot[];
  /** Set when the bucket could not be read; the other clusters are still listed. */
  error?: string;
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** "45s", "3m", "2h5m", "3d4h": how old, to the two largest units. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const [d, h, m] = [
    Math.floor(s / 86400),
    Math.floor((s % 86400) / 3600),
    Math.floor((s % 3600) / 60),
  ];
  if (d > 0) return `${d}d${h ? `${h}h` : ""}`;
  if (h > 0) return `${h}h${m ? `${m}m` : ""}`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}

export function snapshotsJson(clusters: readonly ClusterSnapshots[], now: Date): unknown {
  return {
    clusters: clusters.map((c) => ({
      cluster: c.cluster,
      bucket: c.bucket,
      prefix: c.prefix,
      ...(c.error ? { error: c.error } : {}),
      snapshots: c.snapshots.map((s) => ({
        key: s.objectKey,
        manifestKey: s.manifestKey,
        state: s.state,
        ...(s.problem ? { problem: s.problem } : {}),
        takenAt: s.at.toISOString(),
        ageSeconds: Math.max(0, Math.round((now.getTime() - s.at.getTime()) / 1000)),
        ...(s.manifest
          ? {
              revision: s.manifest.revision,
              size: s.manifest.size,
              sha256: s.manifest.sha256,
              member: s.manifest.member.name,
              etcdVersion: s.manifest.etcdVersion,
            }
          : s.storedSize !== undefined
            ? { size: s.storedSize }
            : {}),
      })),
    })),
  };
}

export function formatSnapshotsText(clusters: readonly ClusterSnapshots[], now: Date): string {
  const rows: string[][] = [["CLUSTER", "SNAPSHOT", "STATE", "AGE", "REVISION", "SIZE", "MEMBER"]];
  const notes: string[] = [];
  for (const c of clusters) {
    if (c.error) {
      notes.push(`${c.cluster}: cannot list s3://${c.bucket}/${c.prefix}: ${c.error}`);
      continue;
    }
    if (c.snapshots.length === 0)
      notes.push(`${c.cluster}: no snapshots under s3://${c.bucket}/${c.prefix}`);
    for (const s of c.snapshots) {
      rows.push([
        c.cluster,
        s.objectKey,
        s.state,
        formatAge(now.getTime() - s.at.getTime()),
        s.manifest?.revision ?? "-",
        formatBytes(s.manifest?.size ?? s.storedSize ?? 0),
        s.manifest?.member.name ?? "-",
      ]);
      if (s.state !== "good")
        notes.push(`${c.cluster}: ${s.objectKey} is not usable: ${s.problem ?? s.state}`);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const table =
    rows.length > 1
      ? rows
          .map((r) =>
            r
              .map((cell, i) => cell.padEnd(widths[i] ?? 0))
              .join("  ")
              .trimEnd(),
          )
          .join("\n")
      : "";
  return [table, ...notes]
    .filter((line) => line !== "")
    .join("\n")
    .concat("\n");
}
