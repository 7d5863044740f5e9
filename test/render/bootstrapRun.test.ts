// Runs the rendered bootstrap script for real: sh, curl and etcd on loopback,
// against a loopback instance metadata service. Only what cannot run here is
// faked, each by a few lines of sh: systemctl (starts etcd from the same
// environment files etcd-member.service reads) and docker (records the
// CloudFormation signal the AWS CLI container would send).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bootSettingsFor } from "../../src/render/bootSettings.js";
import { bootstrapScript } from "../../src/render/bootstrapScript.js";
import { encodeBootSettings, peerListTags } from "../../src/render/contract.js";
import { waitFor } from "../helpers/waitFor.js";
import { imdsEndpoint, startImds } from "./fakeImds.js";
import { devSpec } from "./specs.js";

const hasTools = ["etcd", "curl"].every((tool) => spawnSync("which", [tool]).status === 0);

const FAKE_SYSTEMCTL = `#!/bin/sh
# systemctl stand-in: "start" runs etcd with etcd-member.service's environment
# files; "show" reports active until etcd exits, then failed.
set -eu
case "$1" in
start)
  set -a
  . "$QUORATE_ROOT/etc/quorate/etcd.env"
  . "$QUORATE_ROOT/etc/quorate/peers.env"
  set +a
  ETCD_DATA_DIR="$QUORATE_ROOT/var/lib/etcd"
  export ETCD_DATA_DIR
  sh -c 'etcd & echo $! >"$QUORATE_ROOT/etcd.pid"; wait $!; echo $? >"$QUORATE_ROOT/etcd.exit"' \
    >"$QUORATE_ROOT/etcd.log" 2>&1 &
  ;;
show)
  case "$3" in
  NRestarts) cat "$QUORATE_ROOT/nrestarts" 2>/dev/null || echo 0 ;;
  ActiveState)
    # The bootstrap asks once a poll: the test counts its polls here.
    echo poll >>"$QUORATE_ROOT/polls"
    if [ -f "$QUORATE_ROOT/etcd.exit" ]; then echo failed
    elif [ -f "$QUORATE_ROOT/etcd.pid" ]; then echo active
    else echo inactive; fi
    ;;
  esac
  ;;
esac
`;

const FAKE_DOCKER = `#!/bin/sh
echo "$*" >>"$QUORATE_ROOT/docker.log"
`;

interface Instance {
  id: string;
  ip: string;
  root: string;
  tags: Map<string, string>;
  imds: Server;
  script?: ChildProcess;
  /** What the script has logged so far. */
  stderr: string;
  exit?: Promise<number | null>;
}

const base = mkdtempSync(join(tmpdir(), "quorate-bootstrap-run-"));
const instances: Instance[] = [];
const spec = devSpec();
const settings = encodeBootSettings(bootSettingsFor(spec));

async function launch(id: string, ip: string): Promise<Instance> {
  const root = join(base, id);
  mkdirSync(join(root, "etc/quorate"), { recursive: true });
  mkdirSync(join(root, "bin"), { recursive: true });
  writeFileSync(join(root, "etc/quorate/etcd.env"), settings);
  writeFileSync(join(root, "bin/systemctl"), FAKE_SYSTEMCTL);
  writeFileSync(join(root, "bin/docker"), FAKE_DOCKER);
  writeFileSync(join(root, "bootstrap"), bootstrapScript());
  for (const f of ["bin/systemctl", "bin/docker", "bootstrap"]) chmodSync(join(root, f), 0o755);
  const partial = { id, ip, root, tags: new Map<string, string>() };
  const instance: Instance = { ...partial, stderr: "", imds: await startImds(partial) };
  instances.push(instance);
  const script = spawn("sh", [join(root, "bootstrap")], {
    env: {
      ...process.env,
      PATH: `${join(root, "bin")}:${process.env.PATH}`,
      QUORATE_ROOT: root,
      QUORATE_IMDS_ENDPOINT: imdsEndpoint(instance.imds),
      QUORATE_POLL_SECONDS: "0.2",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  script.stderr?.on("data", (chunk) => {
    instance.stderr += chunk;
  });
  instance.script = script;
  instance.exit = new Promise((resolve) =>
    script.on("exit", (code) => {
      if (code !== 0 && process.env.DEBUG_BOOTSTRAP)
        console.error(`${id} exited ${code}:\n${instance.stderr}`);
      resolve(code);
    }),
  );
  return instance;
}

function publish(instance: Instance, tags: Record<string, string>) {
  for (const [key, value] of Object.entries(tags)) instance.tags.set(key, value);
}

const read = (instance: Instance, file: string) =>
  existsSync(join(instance.root, file)) ? readFileSync(join(instance.root, file), "utf8") : "";

async function gateway(ip: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`http://${ip}:2379${path}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after 5 s; returns once the process is gone. */
async function stop(pid: number): Promise<void> {
  if (!(pid > 0) || !alive(pid)) return;
  process.kill(pid, "SIGTERM");
  for (let waited = 0; alive(pid); waited += 100) {
    if (waited === 5000) process.kill(pid, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the script has logged that its member answers healthy. */
async function seenHealthy(instance: Instance): Promise<void> {
  await waitFor(
    "the script to see its member healthy",
    () => expect(instance.stderr).toContain("is healthy; waiting until it is a voting member"),
    { timeoutMs: 15_000, intervalMs: 100 },
  );
}

/**
 * Adds a learner through the first member, as quorate would. etcd refuses
 * ("unhealthy cluster") until every voting member has been connected for 5 s,
 * so a member promoted a moment ago makes it retry.
 */
async function addLearner(ip: string): Promise<string> {
  let id = "";
  await waitFor(
    "a learner added",
    async () => {
      const added = await gateway(IP[0], "/v3/cluster/member/add", {
        peerURLs: [`http://${ip}:2380`],
        isLearner: true,
      });
      expect(added.error).toBeUndefined();
      id = (added.member as { ID: string }).ID;
    },
    { timeoutMs: 15_000, intervalMs: 500 },
  );
  return id;
}

afterAll(async () => {
  for (const instance of instances) {
    if (instance.script?.exitCode === null) instance.script.kill("SIGKILL");
    await stop(Number(read(instance, "etcd.pid")));
    await new Promise<void>((resolve) => instance.imds.close(() => resolve()));
  }
  rmSync(base, { recursive: true, force: true });
}, 30_000);

// Loopback addresses of this run's members (ports 2379/2380): a random /24
// under 127.83/16, so that a second run of this file at the same time, or
// other tests on 127.0.0.N, do not collide with it.
const NET = `127.83.${Math.floor(Math.random() * 256)}`;
const IP = [`${NET}.1`, `${NET}.2`, `${NET}.3`, `${NET}.4`] as const;

describe.skipIf(!hasTools)("bootstrap script on loopback (real sh, curl, etcd)", () => {
  it("waits for the peer list, starts etcd, and signals once the member is healthy and voting", async () => {
    const first = await launch("i-0aaaaaaaaaaaaaaa1", IP[0]);
    // The script is up and waiting: publish the tags the way quorate would.
    await waitFor("etcd stopped", () => expect(read(first, "etcd.pid")).toBe(""), {
      timeoutMs: 2000,
    });
    publish(
      first,
      peerListTags({
        state: "new",
        token: "quorate-dev-1",
        initialCluster: `${first.id}=http://${IP[0]}:2380`,
      }),
    );
    expect(await first.exit).toBe(0);
    expect(read(first, "etc/quorate/peers.env")).toBe(
      [
        `ETCD_NAME=${first.id}`,
        `ETCD_INITIAL_CLUSTER=${first.id}=http://${IP[0]}:2380`,
        "ETCD_INITIAL_CLUSTER_STATE=new",
        "ETCD_INITIAL_CLUSTER_TOKEN=quorate-dev-1",
        `ETCD_INITIAL_ADVERTISE_PEER_URLS=http://${IP[0]}:2380`,
        `ETCD_LISTEN_PEER_URLS=http://${IP[0]}:2380`,
        `ETCD_ADVERTISE_CLIENT_URLS=http://${IP[0]}:2379`,
        `ETCD_LISTEN_CLIENT_URLS=http://${IP[0]}:2379`,
        "",
      ].join("\n"),
    );
    expect(read(first, "docker.log")).toBe(
      `run --rm --network host public.ecr.aws/aws-cli/aws-cli:2.22.0 cloudformation signal-resource --region eu-west-1 --stack-name quorate-dev --logical-resource-id EtcdGroup --unique-id ${first.id} --status SUCCESS\n`,
    );
    expect(existsSync(join(first.root, "var/lib/quorate/signalled"))).toBe(true);
  }, 30_000);

  it("does not signal while the member is a learner, and signals once it is promoted", async () => {
    const second = await launch("i-0aaaaaaaaaaaaaaa2", IP[1]);
    const memberId = await addLearner(IP[1]);
    publish(
      second,
      peerListTags({
        state: "existing",
        token: "quorate-dev-1",
        initialCluster: `i-0aaaaaaaaaaaaaaa1=http://${IP[0]}:2380,${second.id}=http://${IP[1]}:2380`,
      }),
    );
    // The learner comes up healthy; the script sees it and must still hold its
    // signal for as long as the member is not promoted: three more polls, no signal.
    await seenHealthy(second);
    const polls = () => read(second, "polls").split("\n").length - 1;
    const seen = polls();
    await waitFor("three more polls of the healthy learner", () => polls() >= seen + 3, {
      timeoutMs: 15_000,
    });
    expect(read(second, "docker.log")).toBe("");
    expect(second.script?.exitCode).toBeNull();

    await waitFor(
      "the learner promoted",
      async () => {
        const promoted = await gateway(IP[0], "/v3/cluster/member/promote", { ID: memberId });
        expect(promoted.error).toBeUndefined();
      },
      { timeoutMs: 15_000, intervalMs: 300 },
    );
    expect(await second.exit).toBe(0);
    expect(read(second, "docker.log")).toContain(`--unique-id ${second.id} --status SUCCESS`);
  }, 45_000);

  it("does not signal when etcd exits", async () => {
    const third = await launch("i-0aaaaaaaaaaaaaaa3", IP[2]);
    // "existing", but no listed peer answers: etcd cannot join and exits. The
    // list is longer than one tag value, so it also takes the numbered parts.
    const gone = Array.from(
      { length: 8 },
      (_, i) => `,i-0bbbbbbbbbbbbbbb${i}=http://${NET}.${100 + i}:2380`,
    ).join("");
    const initialCluster = `${third.id}=http://${IP[2]}:2380${gone}`;
    const tags = peerListTags({ state: "existing", token: "quorate-dev-1", initialCluster });
    expect(Object.keys(tags)).toContain("quorate.dev:initial-cluster.1");
    publish(third, tags);
    expect(await third.exit).toBe(1);
    expect(read(third, "etc/quorate/peers.env")).toContain(
      `ETCD_INITIAL_CLUSTER=${initialCluster}\n`,
    );
    expect(read(third, "etcd.exit").trim()).not.toBe("0");
    expect(read(third, "docker.log")).toBe("");
  }, 30_000);

  it("does not signal when etcd restarts after it was healthy", async () => {
    const fourth = await launch("i-0aaaaaaaaaaaaaaa4", IP[3]);
    await addLearner(IP[3]);
    publish(
      fourth,
      peerListTags({
        state: "existing",
        token: "quorate-dev-1",
        initialCluster: [
          `i-0aaaaaaaaaaaaaaa1=http://${IP[0]}:2380`,
          `i-0aaaaaaaaaaaaaaa2=http://${IP[1]}:2380`,
          `${fourth.id}=http://${IP[3]}:2380`,
        ].join(","),
      }),
    );
    // Once the script has seen the healthy learner, report a restart as systemd would.
    await seenHealthy(fourth);
    writeFileSync(join(fourth.root, "nrestarts"), "1\n");
    expect(await fourth.exit).toBe(1);
    expect(read(fourth, "docker.log")).toBe("");
  }, 30_000);
});
