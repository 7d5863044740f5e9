// quorate local up|down|status|reset through ./bin/quorate: a background
// daemon with a pid file and a log, found again by a second `up`, described by
// `status`, and stopped by `down`.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomNetwork, removeDir, tempDir } from "../localcloud/cloudHelpers.js";
import { cli, ensureBuilt, freePort, isAlive } from "../localcloud/daemonHelpers.js";

let dataDir: string;

beforeAll(async () => {
  await ensureBuilt();
  dataDir = await tempDir("lc-cli-");
}, 120_000);

afterAll(async () => {
  cli(["local", "down", "--data-dir", dataDir]);
  await removeDir(dataDir);
});

describe("quorate local", () => {
  it("up starts a daemon, says so when it already runs, status describes it, down stops it", async () => {
    const port = String(await freePort());
    const common = ["--data-dir", dataDir, "--port", port];
    const up = cli([
      "local",
      "up",
      ...common,
      "--network",
      randomNetwork(),
      "--region",
      "eu-west-1",
    ]);
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toContain(`local cloud running on http://127.0.0.1:${port}`);
    expect(up.stdout).toContain(`export AWS_ENDPOINT_URL=http://127.0.0.1:${port}`);
    expect(up.stdout).toContain("export AWS_REGION=eu-west-1");
    expect(up.stdout).toContain("export AWS_ACCESS_KEY_ID=local");
    const pidFile = JSON.parse(readFileSync(join(dataDir, "localcloud.pid"), "utf8")) as {
      pid: number;
    };
    expect(isAlive(pidFile.pid)).toBe(true);
    expect(existsSync(join(dataDir, "localcloud.log"))).toBe(true);

    const again = cli(["local", "up", ...common]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain(
      `already running on http://127.0.0.1:${port} (pid ${pidFile.pid}`,
    );

    const status = cli(["local", "status", ...common]);
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(`local cloud on http://127.0.0.1:${port} (pid ${pidFile.pid}`);
    expect(status.stdout).toContain("stacks (0):");
    const json = cli(["local", "status", ...common, "--format", "json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      running: true,
      stacks: [],
      groups: [],
      instances: [],
    });

    const down = cli(["local", "down", ...common]);
    expect(down.status).toBe(0);
    expect(down.stdout).toContain(`stopped the local cloud (pid ${pidFile.pid})`);
    expect(isAlive(pidFile.pid)).toBe(false);
    const stopped = cli(["local", "status", ...common]);
    expect(stopped.status).toBe(1);
    expect(stopped.stdout).toContain("is not running");
  });

  it("reset deletes the data directory", () => {
    const reset = cli(["local", "reset", "--data-dir", dataDir]);
    expect(reset.status).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  });

  it("refuses an unknown subcommand with the usage exit code", () => {
    const wrong = cli(["local", "sideways"]);
    expect(wrong.status).toBe(64);
    expect(wrong.stderr).toContain("expected one of up, down, status, reset");
  });
});
