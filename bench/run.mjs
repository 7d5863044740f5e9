// Runs every benchmark (bench/*.bench.mjs) in its own process, one after another.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const only = process.argv.slice(2);
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith(".bench.mjs"))
  .sort()) {
  if (only.length > 0 && !only.some((name) => file.includes(name))) continue;
  console.error(`== ${file}`);
  const result = spawnSync(process.execPath, [`${dir}${file}`], { stdio: "inherit" });
  if (result.status !== 0) process.exitCode = 1;
}
