// Story: the dev cluster (3 real etcd members on the local cloud) has a small
// quotaBackendBytes and fills up until etcd raises NOSPACE. An upgrade is held
// and the message names NOSPACE and the command that clears it. The operator
// runs exactly that command under a concurrent writer: writes may be refused
// while NOSPACE stands, none fails once it is cleared, and no acknowledged
// write is lost. The upgrade then applies.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { createEtcdClient } from "../../src/etcd/client.js";
import { applyCluster } from "../../src/reconcile/apply.js";
import { cli } from "../cli/run.js";
import { type Harness, startHarness, TEST_GATES } from "../helpers/quorateHarness.js";
import { waitFor } from "../helpers/waitFor.js";

const QUOTA = 8 * 1024 * 1024;
const BIG = "x".repeat(256 * 1024);
let h: Harness;
let dir: string;

const manifest = (imageVersion?: string) => {
  const m = parse(readFileSync(new URL("../../clusters/dev.yaml", import.meta.url), "utf8"));
  m.spec.etcd.quotaBackendBytes = QUOTA;
  m.spec.gates = { ...m.spec.gates, ...TEST_GATES };
  if (imageVersion) m.spec.image.version = imageVersion;
  return m;
};
const spec = (imageVersion?: string) =>
  h.spec("dev", (m) => {
    const wanted = manifest(imageVersion);
    m.spec = wanted.spec;
  });

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(join(tmpdir(), "quorate-nospace-"));
  const created = await applyCluster(h.deps(), spec(), { revision: "rev-create" });
  if (created.result !== "applied") throw new Error(`dev was not created: ${created.message}`);
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("NOSPACE: held, cleared by the command it names, then applied", () => {
  it("fills until NOSPACE, holds the upgrade, maintains under a writer, then applies", async () => {
    const urls = await h.clientURLs(spec());
    const filler = createEtcdClient(urls[0] ?? "", { timeoutMs: 5000 });
    // 1. Fill: the same few keys over and over, until etcd refuses with NOSPACE.
    let refused = "";
    for (let i = 0; i < 200 && !refused; i++) {
      await filler.put(`fill/${i % 4}`, BIG).catch((e: Error) => {
        refused = e.message;
      });
    }
    expect(refused).toMatch(/database space exceeded/);
    expect((await filler.alarms()).map((a) => a.alarm)).toContain("NOSPACE");

    // Each step says when it is reached: a timeout in CI then names the step that hung.
    const reached = (step: string) =>
      console.log(`nospace story: ${step} at ${new Date().toISOString()}`);
    reached("NOSPACE raised");
    // 2. The upgrade is held, naming NOSPACE and the command.
    const held = await applyCluster(h.deps(), spec("4152.2.0"), { revision: "rev-held" });
    expect(held.result, held.message).toBe("gate-blocked");
    expect(held.message).toContain("NOSPACE alarm raised by");
    expect(held.message).toContain("run `quorate maintain dev --compact --defrag --disarm`");

    reached("upgrade held");
    // 3. The command, exactly as named, under a concurrent writer.
    writeFileSync(join(dir, "dev.yaml"), stringify(manifest()));
    // `at` is when a write was sent: a write sent before the disarm and answered
    // after it belongs to the NOSPACE period. A member fsyncing on a loaded
    // two-core machine can take seconds, so a slow answer is not a failure.
    const writes: { key: string; at: number; ok: boolean; error?: string }[] = [];
    let writing = true;
    const writer = (async () => {
      const clients = urls.map((u) => createEtcdClient(u, { timeoutMs: 15_000, keepAlive: true }));
      for (let n = 0; writing && n < 20_000; n++) {
        const key = `story/${n}`;
        const at = Date.now();
        try {
          await clients[n % clients.length]?.put(key, String(n));
          writes.push({ key, at, ok: true });
        } catch (error) {
          writes.push({ key, at, ok: false, error: (error as Error).message });
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const c of clients) c.close();
    })();
    const run = await cli(
      [
        "maintain",
        "dev",
        "--compact",
        "--defrag",
        "--disarm",
        "--keep-revisions",
        "10",
        "--path",
        dir,
        "--local",
        "--endpoint",
        h.endpoint,
        "--format",
        "json",
      ],
      { env: { ...process.env, XDG_CACHE_HOME: dir } },
    );
    reached(`quorate maintain exited ${run.code}`);
    let lines: { message: string; at: string }[];
    let disarmedAt: number;
    try {
      expect(run.code, run.stdout + run.stderr).toBe(0);
      lines = run.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { message: string; at: string });
      disarmedAt = Date.parse(
        lines.find((l) => l.message.startsWith("disarmed NOSPACE"))?.at ?? "",
      );
      expect(Number.isNaN(disarmedAt)).toBe(false);
      // The writer keeps going until 40 writes were answered well after the alarm was gone.
      await waitFor(
        "40 writes after the disarm",
        () => writes.filter((w) => w.at > disarmedAt + 500).length >= 40,
      );
    } finally {
      writing = false;
      await writer;
    }
    // One member at a time: each defragmentation is reported done before the next begins.
    const defrag = lines
      .map((l) => l.message)
      .filter((m) => /^defragmenting \S+: \d/.test(m) || m.startsWith("defragmented "))
      .map((m) => m.split(" ")[0]);
    expect(defrag).toEqual([
      "defragmenting",
      "defragmented",
      "defragmenting",
      "defragmented",
      "defragmenting",
      "defragmented",
    ]);

    // etcd itself says the alarm is gone and every database is under the quota.
    expect(await filler.alarms()).toEqual([]);
    for (const url of urls) {
      const status = await createEtcdClient(url).status();
      expect(status.dbSize).toBeLessThan(BigInt(QUOTA));
    }
    // Writes refused only while NOSPACE stood; none after it was disarmed.
    const after = writes.filter((w) => w.at > disarmedAt + 500);
    expect(after.length).toBeGreaterThan(20);
    expect(after.filter((w) => !w.ok)).toEqual([]);
    for (const w of writes.filter((x) => !x.ok)) expect(w.error).toMatch(/space exceeded/);
    // No acknowledged write is lost.
    const acknowledged = writes.filter((w) => w.ok);
    for (const w of acknowledged) {
      const read = await filler.range(w.key);
      expect(read.kvs[0]?.value, w.key).toBe(w.key.split("/")[1]);
    }
    filler.close();

    reached("maintenance checked");
    // 4. More data, with room on the defragmented members (about 4.6 MiB of 8 MiB before it).
    const more = createEtcdClient(urls[0] ?? "", { timeoutMs: 5000 });
    for (let i = 0; i < 8; i++) await more.put(`more/${i}`, BIG);
    more.close();

    // 5. The upgrade, under a writer. Each new member replays the raft log, fill
    // and all, so its database comes up over the quota with most of it free;
    // quorate defragments it before the member it replaces leaves (and disarms a
    // NOSPACE that a new member raised meanwhile). Without that, the first write
    // after this "applied" rollout was refused with NOSPACE.
    let upgrading = true;
    const upgradeWrites: { at: number; error?: string }[] = [];
    const upgradeWriter = (async () => {
      let current = await h.clientURLs(spec());
      let refreshedAt = Date.now();
      for (let n = 0; upgrading && n < 5_000; n++) {
        if (Date.now() - refreshedAt > 500) {
          current = await h.clientURLs(spec()).catch(() => current);
          refreshedAt = Date.now();
        }
        // As a multi-endpoint client does: a learner or a member on its way out
        // sends the write on to the next endpoint; only the cluster's answer counts.
        const at = Date.now();
        let error: string | undefined;
        for (let k = 0; k < current.length; k++) {
          const client = createEtcdClient(current[(n + k) % current.length] ?? "", {
            timeoutMs: 5000,
          });
          error = await client.put(`upgrade/${n}`, String(n)).then(
            () => undefined,
            (e: Error) => e.message,
          );
          client.close();
          if (!error || /space exceeded/.test(error)) break;
        }
        upgradeWrites.push(error ? { at, error } : { at });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const applied = await applyCluster(h.deps(), spec("4152.2.0"), {
      revision: "rev-after",
    }).finally(async () => {
      upgrading = false;
      await upgradeWriter;
    });
    reached(`upgrade ${applied.result}`);
    expect(applied.result, applied.message).toBe("applied");
    const defragmented = h.events.filter((e) => e.type === "member-defragmented");
    expect(defragmented.length, "each new member defragmented").toBe(3);
    const disarmed = h.events.filter((e) => e.type === "alarm-disarmed");
    // How long writes were refused in a row (a period runs from the first refused write to the next accepted one).
    const periods: number[] = [];
    let since: number | undefined;
    for (const w of upgradeWrites) {
      if (w.error && since === undefined) since = w.at;
      if (!w.error && since !== undefined) {
        periods.push(w.at - since);
        since = undefined;
      }
    }
    const refusedWrites = upgradeWrites.filter((w) => w.error);
    console.log(
      `nospace story: ${disarmed.length} NOSPACE raised by a replacement and disarmed; ${refusedWrites.length} of ${upgradeWrites.length} writes refused during the upgrade, in periods of ${periods.join(", ")} ms`,
    );
    for (const w of refusedWrites) expect(w.error).toMatch(/space exceeded/);
    const upgraded = await h.clientURLs(spec());
    const leader = createEtcdClient(upgraded[0] ?? "");
    expect(await leader.alarms()).toEqual([]);
    for (const url of upgraded) {
      const status = await createEtcdClient(url).status();
      expect(status.dbSize, url).toBeLessThan(BigInt(Math.floor(QUOTA * 0.9)));
    }
    // The write that NOSPACE refused before the fix.
    await leader.put("after/upgrade", "ok");
    expect((await leader.range("after/upgrade")).kvs[0]?.value).toBe("ok");
    leader.close();
  }, 200_000);
});
