// The machine a benchmark ran on, for bench/RESULTS.md.
import { cpus, totalmem } from "node:os";

export function machine() {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  return `${cpus().length} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export function ms(value) {
  return `${value.toFixed(1)} ms`;
}
