// Which CPU architecture an EC2 instance type runs, from its family name.
// Graviton families carry a "g" right after the generation digit (m6g, c7gn,
// r8gd, t4g, x2gd, im4gn, is4gen) and a1 is the first Graviton; mac families
// run macOS only. docs/references.md#instance-type-architecture
export type Architecture = "x86_64" | "arm64";

export function instanceArchitecture(instanceType: string): Architecture | "unsupported" {
  const family = instanceType.split(".")[0] ?? "";
  if (family.startsWith("mac")) return "unsupported";
  if (family === "a1" || /^[a-z]+\d+g[a-z0-9-]*$/.test(family)) return "arm64";
  // Every other family name is letters, a generation digit and attribute letters.
  return /^[a-z]+(-[a-z0-9]+)?\d/.test(family) ? "x86_64" : "unsupported";
}
