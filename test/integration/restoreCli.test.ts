// `quorate restore` and the refusals around a restore (#9), as an operator runs
// them, in-process, against the local cloud with real etcd and the real S3
// client. A 1-member dev keeps the story short; the 3-member restore is the
// quorum-loss story's (quorumLossRestore.test.ts).
//   1. A corrupted snapshot is refused by `quorate restore` (exit 3, nothing
//      written) and by an apply of a committed spec.restore before any change
//      set is created.
//   2. With a good snapshot, `quorate restore` prints the block to commit;
//      `--apply --yes` restores now: a new group holding the snapshot's keys.
//   3. The manifest still without spec.restore would rename the group back (a
//      new, empty cluster): apply refuses it, and names the block to put back;
//      with the block, nothing changes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bucketFor, readCatalog } from "../../src/reconcile/backup/snapshots.js";
import { restoreGroupName } from "../../src/render/contract.js";
import { cli } from "../cli/run.js";
import { applyDevByCli, writeDev } from "../helpers/cliApply.js";
import { type Harness, startHarness } from "../helpers/quorateHarness.js";
import { removeDir, tempDir } from "../source/gitRepos.js";

let h: Harness;
let dir: string;
const BACKUP = { bucket: "snaps" };
const oneMember = (m: Record<string, any>) => {
  m.spec.size = 1;
  m.spec.backup = BACKUP;
};
const dev = () => h.spec("dev", oneMember);

beforeAll(async () => {
  h = await startHarness();
  dir = await tempDir("restore-cli");
  await h.aws("eu-west-1").s3.send(new CreateBucketCommand({ Bucket: "snaps" }));
}, 60_000);

afterAll(async () => {
  await h?.close();
  await removeDir(dir);
});

const quorate = (...args: string[]) =>
  cli([...args, "--local", "--endpoint", h.endpoint, "--path", dir, "--tick", "200"], {
    env: { ...process.env, XDG_CACHE_HOME: dir },
  });
const counter = async (name: string) => (await h.cloud.admin.counters())[name] ?? 0;
const b64 = (text: string) => Buffer.from(text).toString("base64");

async function put(url: string, key: string): Promise<void> {
  const response = await fetch(`${url}/v3/kv/put`, {
    method: "POST",
    body: JSON.stringify({ key: b64(key), value: b64("v") }),
  });
  expect(response.ok).toBe(true);
}

async function keysOn(url: string): Promise<number> {
  const response = await fetch(`${url}/v3/kv/range`, {
    method: "POST",
    body: JSON.stringify({ key: b64("k/"), range_end: b64("k0"), count_only: true }),
  });
  return Number(((await response.json()) as { count?: string }).count ?? 0);
}

describe.sequential("quorate restore", () => {
  let url: string;

  it("0. dev is created with spec.backup and holds 50 keys", async () => {
    const created = await applyDevByCli(h.endpoint, dir, oneMember);
    expect(created.stdout).toMatch(/dev: applied/);
    expect(created.code).toBe(0);
    [url = ""] = await h.clientURLs(dev());
    for (let i = 0; i < 50; i++) await put(url, `k/${i}`);
  });

  it("1. refuses a corrupted snapshot, in the CLI and before any change set", async () => {
    const taken = await cli(["backup", "dev", "--local", "--endpoint", h.endpoint, "--path", dir], {
      env: { ...process.env, XDG_CACHE_HOME: dir },
    });
    expect(taken.code).toBe(0);
    const [snapshot] = await readCatalog(bucketFor({ aws: h.aws }, dev()));
    const key = snapshot?.objectKey ?? "";
    await h.cloud.admin.corruptObject({ bucket: "snaps", key });

    const manifest = readFileSync(join(dir, "dev.yaml"), "utf8");
    const refused = await quorate("restore", "dev", "--write");
    expect(refused.code).toBe(3);
    const corrupt = `snapshot s3://snaps/${key} is refused: its sha256 is [0-9a-f]{64}, its manifest says ${snapshot?.manifest?.sha256}: the object is corrupt\\.`;
    expect(refused.stderr).toMatch(
      new RegExp(`^dev: restore refused: ${corrupt} Nothing was written or changed\\.`),
    );
    expect(readFileSync(join(dir, "dev.yaml"), "utf8")).toBe(manifest);

    // The same snapshot committed as spec.restore: refused before any change set.
    const changeSets = await counter("cloudformation:CreateChangeSet");
    writeDev(dir, (m) => {
      oneMember(m);
      m.spec.restore = { id: "r1", snapshot: key };
    });
    const applied = await quorate("apply", "--yes", "--cluster", "dev", "--revision", "rev-r1");
    expect(applied.code).toBe(3);
    expect(applied.stdout).toMatch(
      new RegExp(
        `dev: restore-refused: restore r1 refused before any change set: ${corrupt} Nothing was changed\\.`,
      ),
    );
    expect(await counter("cloudformation:CreateChangeSet")).toBe(changeSets);
    writeDev(dir, oneMember);
  });

  let key: string;
  it("2. prints the block for a good snapshot, and --apply --yes restores it now", async () => {
    const taken = await cli(
      ["backup", "dev", "--local", "--endpoint", h.endpoint, "--path", dir, "--format", "json"],
      { env: { ...process.env, XDG_CACHE_HOME: dir } },
    );
    expect(taken.code).toBe(0);
    const manifest = JSON.parse(taken.stdout) as { object: string; revision: string };
    key = manifest.object;
    for (let i = 50; i < 60; i++) await put(url, `k/${i}`); // after the snapshot: lost
    expect(await keysOn(url)).toBe(60);

    const printed = await quorate("restore", "dev");
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`    restore:\n      id: r1\n      snapshot: ${key}\n`);
    expect(printed.stdout).toContain(`every write after revision ${manifest.revision} is lost`);
    const json = await quorate("restore", "dev", "--format", "json");
    expect(JSON.parse(json.stdout)).toMatchObject({
      type: "restore",
      restore: { id: "r1", snapshot: key },
      snapshot: { bucket: "snaps", key, revision: manifest.revision },
      written: false,
    });

    expect((await quorate("restore", "dev", "--apply")).code).toBe(64);
    const restored = await quorate("restore", "dev", "--apply", "--yes", "--revision", "rev-r1");
    expect(restored.stdout).toContain("dev: applied");
    expect(restored.stdout).toContain("commit the spec.restore block above");
    expect(restored.code).toBe(0);
    const groups = (await h.cloud.admin.state()).groups.map((g) => g.name);
    expect(groups).toEqual([restoreGroupName(dev().stackName, "r1")]);
    const restoring = h.spec("dev", (m) => {
      oneMember(m);
      m.spec.restore = { id: "r1", snapshot: key };
    });
    const [restoredUrl = ""] = await h.clientURLs(restoring);
    expect(await keysOn(restoredUrl)).toBe(50);
  });

  it("3. refuses to rename the restored group back, and keeps it once the block is committed", async () => {
    const executed = await counter("cloudformation:ExecuteChangeSet");
    const refused = await quorate("apply", "--yes", "--cluster", "dev", "--revision", "rev-2");
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(
      /dev: replacement-refused: not applied: stack quorate-dev was restored \(restore r1, from dev\/\S+\.db\), and without spec\.restore in .*dev\.yaml:\d+ its group is renamed back, which replaces it with a new, EMPTY etcd cluster\. Put back spec\.restore with id r1/,
    );
    expect(await counter("cloudformation:ExecuteChangeSet")).toBe(executed);

    const kept = await applyDevByCli(h.endpoint, dir, (m) => {
      oneMember(m);
      m.spec.restore = { id: "r1", snapshot: key };
    });
    expect(kept.stdout).toContain("dev: no-change");
    expect(kept.code).toBe(0);
  });
});
