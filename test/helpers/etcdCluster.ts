// A real etcd cluster on loopback for integration tests: N members, each on
// its own 127.A.B.x address (ports 2379/2380, as on an instance), temp data
// dirs, fault injection (kill, SIGSTOP/SIGCONT, restart), learners that join a
// running cluster, and optional TLS with a throwaway CA made by openssl.
// Everything it starts is stopped by stop(), and by a process-exit hook if a
// test never gets there.
//
//   const cluster = await startEtcdCluster({ size: 3 });
//   afterAll(() => cluster.stop());
//   await cluster.kill(1); await cluster.restart(1);
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createEtcdClient,
  type EtcdClient,
  type EtcdClientOptions,
  type EtcdTls,
} from "../../src/etcd/client.js";
import { createMembership } from "../../src/etcd/membership.js";
import { waitFor } from "./waitFor.js";

export const CLIENT_PORT = 2379;
export const PEER_PORT = 2380;

export interface MemberAddress {
  name: string;
  ip: string;
  clientURL: string;
  peerURL: string;
}

export type MemberState = "running" | "paused" | "stopped";

export interface TestMember extends MemberAddress {
  /** Position in cluster.members (0-based); the name is m<index+1>. */
  index: number;
  dataDir: string;
  logFile: string;
  state: MemberState;
  pid: number | undefined;
  /** etcd's member id, once the member has answered a status call. */
  id: bigint | undefined;
}

export interface TestClusterOptions {
  size: number;
  /** Serve clients over https with a throwaway CA; `clientCertAuth` requires client certificates. */
  tls?: { clientCertAuth?: boolean };
  heartbeatMs?: number;
  electionMs?: number;
  /** How long start and restart wait for health; default 20 s. */
  readyTimeoutMs?: number;
  etcdBinary?: string;
  extraArgs?: string[];
}

/** PEM files of the throwaway CA and a client certificate it signed. */
export interface TestPki {
  dir: string;
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

export interface EtcdTestCluster {
  readonly dir: string;
  readonly members: readonly TestMember[];
  /** Client URLs of every member ever started (stopped ones too), in index order. */
  readonly endpoints: string[];
  /** What a client needs to talk to the cluster (the CA and client certificate under TLS). */
  readonly clientOptions: EtcdClientOptions;
  readonly pki: TestPki | undefined;
  client(index: number): EtcdClient;
  /** Waits until the given members (default: all running) answer healthy. */
  waitHealthy(options?: { members?: number[]; timeoutMs?: number }): Promise<void>;
  /** Sends a signal (default SIGKILL) and waits for the process to exit. */
  kill(index: number, signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (after SIGCONT if paused), SIGKILL if it lingers. */
  stopMember(index: number): Promise<void>;
  /** SIGSTOP: the member keeps its sockets but answers nothing. */
  pause(index: number): void;
  resume(index: number): void;
  /** Starts the member again on its data dir and waits until it is healthy. */
  restart(index: number): Promise<void>;
  /** A fresh address for a member that is not started yet. */
  allocate(): Promise<MemberAddress>;
  /** Starts a member the caller has already added (member add), with --initial-cluster-state existing. */
  startAdded(address: MemberAddress): Promise<TestMember>;
  /** member add --learner a fresh address, start it, wait until it answers. */
  startLearner(): Promise<TestMember>;
  /** The last lines of a member's etcd log, for failure messages. */
  logTail(index: number, lines?: number): string;
  /** Stops every member and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const live = new Map<number, ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live.values()) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** Whether openssl is on PATH (TLS tests skip without it). */
export function opensslAvailable(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Runs openssl in `dir`; `args` is one string, split on spaces (no argument here contains one). */
function openssl(dir: string, args: string, ...withSpaces: string[]): void {
  execFileSync("openssl", [...args.split(" "), ...withSpaces], {
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
}

const EC_KEY = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

function signedCertificate(dir: string, name: string, extensions: string): void {
  openssl(dir, `req ${EC_KEY} -keyout ${name}.key -out ${name}.csr -subj /CN=${name}`);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(
    dir,
    `x509 -req -in ${name}.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out ${name}.crt -days 2 -extfile ${name}.ext`,
  );
}

/** A CA and a client certificate it signed, in `dir`. */
export function makeTestPki(dir: string): TestPki {
  mkdirSync(dir, { recursive: true });
  openssl(
    dir,
    `req -x509 ${EC_KEY} -keyout ca.key -out ca.crt -days 2 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -subj`,
    "/CN=quorate test CA",
  );
  signedCertificate(dir, "client", "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
  return {
    dir,
    caFile: join(dir, "ca.crt"),
    clientCertFile: join(dir, "client.crt"),
    clientKeyFile: join(dir, "client.key"),
  };
}

/** A server certificate for a member's address, signed by the test CA. */
function makeServerCertificate(
  pki: TestPki,
  name: string,
  ip: string,
): { certFile: string; keyFile: string } {
  signedCertificate(
    pki.dir,
    name,
    `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:${ip},DNS:localhost\n`,
  );
  return { certFile: join(pki.dir, `${name}.crt`), keyFile: join(pki.dir, `${name}.key`) };
}

function portFree(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function addressFree(ip: string): Promise<boolean> {
  return (await portFree(ip, CLIENT_PORT)) && (await portFree(ip, PEER_PORT));
}

// Subnets this process handed out; random ones keep parallel test processes apart,
// and the bind check catches the rare collision. 127.0.x.x is left to the local cloud.
const usedSubnets = new Set<string>();

async function allocateSubnet(size: number): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const subnet = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}`;
    if (usedSubnets.has(subnet)) continue;
    const checks = await Promise.all(
      Array.from({ length: size }, (_, i) => addressFree(`${subnet}.${i + 1}`)),
    );
    if (checks.every(Boolean)) {
      usedSubnets.add(subnet);
      return subnet;
    }
  }
  throw new Error("no free 127.A.B.0/24 subnet for a test etcd cluster after 50 tries");
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startEtcdCluster(options: TestClusterOptions): Promise<EtcdTestCluster> {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), "quorate-etcd-"));
  tempDirs.add(dir);
  const binary = options.etcdBinary ?? "etcd";
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const token = `quorate-test-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  const pki = options.tls ? makeTestPki(join(dir, "pki")) : undefined;
  const scheme = pki ? "https" : "http";
  const clientOptions: EtcdClientOptions = { timeoutMs: 2000 };
  if (pki) {
    const tls: EtcdTls = { ca: readFileSync(pki.caFile) };
    tls.cert = readFileSync(pki.clientCertFile);
    tls.key = readFileSync(pki.clientKeyFile);
    clientOptions.tls = tls;
  }

  const members: TestMember[] = [];
  const processes = new Map<number, ChildProcess>();
  const argsByIndex = new Map<number, string[]>();
  const spawnErrors = new Map<number, Error>();
  let subnet = "";
  let nextHost = 1;
  let stopped = false;

  const addressFor = (host: number): MemberAddress => {
    const ip = `${subnet}.${host}`;
    return {
      name: `m${host}`,
      ip,
      clientURL: `${scheme}://${ip}:${CLIENT_PORT}`,
      peerURL: `http://${ip}:${PEER_PORT}`,
    };
  };

  async function allocate(): Promise<MemberAddress> {
    for (; nextHost < 255; nextHost++) {
      const address = addressFor(nextHost);
      if (await addressFree(address.ip)) {
        nextHost++;
        return address;
      }
    }
    throw new Error(`no free address left in ${subnet}.0/24`);
  }

  function argsFor(
    address: MemberAddress,
    dataDir: string,
    initialCluster: string,
    state: "new" | "existing",
  ): string[] {
    const flags: Record<string, string> = {
      name: address.name,
      "data-dir": dataDir,
      "listen-client-urls": address.clientURL,
      "advertise-client-urls": address.clientURL,
      "listen-peer-urls": address.peerURL,
      "initial-advertise-peer-urls": address.peerURL,
      "initial-cluster": initialCluster,
      "initial-cluster-state": state,
      "initial-cluster-token": token,
      "heartbeat-interval": String(options.heartbeatMs ?? 100),
      "election-timeout": String(options.electionMs ?? 1000),
      logger: "zap",
      "log-outputs": "stderr",
    };
    if (pki) {
      const server = makeServerCertificate(pki, address.name, address.ip);
      flags["cert-file"] = server.certFile;
      flags["key-file"] = server.keyFile;
      flags["trusted-ca-file"] = pki.caFile;
    }
    const args = Object.entries(flags).flatMap(([flag, value]) => [`--${flag}`, value]);
    if (pki && options.tls?.clientCertAuth) args.push("--client-cert-auth");
    return [...args, ...(options.extraArgs ?? [])];
  }

  function spawnMember(member: TestMember): void {
    const args = argsByIndex.get(member.index);
    if (!args) throw new Error(`no arguments recorded for ${member.name}`);
    const log = openSync(member.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(binary, args, { stdio: ["ignore", log, log] });
    } finally {
      closeSync(log);
    }
    // Without a listener, a spawn failure (no etcd binary) would crash the test process.
    child.once("error", (error) => {
      spawnErrors.set(member.index, error);
      member.state = "stopped";
    });
    const pid = child.pid;
    if (pid === undefined) {
      throw new Error(
        `could not start ${binary} for ${member.name}; etcd 3.4+ must be installed (Debian: etcd-server)`,
      );
    }
    processes.set(member.index, child);
    live.set(pid, child);
    member.pid = pid;
    member.state = "running";
    child.once("exit", () => {
      live.delete(pid);
      if (processes.get(member.index) === child) {
        processes.delete(member.index);
        member.pid = undefined;
        member.state = "stopped";
      }
    });
  }

  function addMember(
    address: MemberAddress,
    initialCluster: string,
    state: "new" | "existing",
  ): TestMember {
    const index = members.length;
    const dataDir = join(dir, address.name);
    const member: TestMember = {
      ...address,
      index,
      dataDir,
      logFile: join(dir, `${address.name}.log`),
      state: "stopped",
      pid: undefined,
      id: undefined,
    };
    members.push(member);
    argsByIndex.set(index, argsFor(address, dataDir, initialCluster, state));
    return member;
  }

  const memberAt = (index: number): TestMember => {
    const member = members[index];
    if (!member) throw new Error(`no member ${index}; the cluster has ${members.length}`);
    return member;
  };

  function logTail(index: number, lines = 15): string {
    const file = memberAt(index).logFile;
    if (!existsSync(file)) return "(no log)";
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  }

  const client = (index: number) => createEtcdClient(memberAt(index).clientURL, clientOptions);

  async function waitHealthy(wait: { members?: number[]; timeoutMs?: number } = {}): Promise<void> {
    const targets =
      wait.members ?? members.filter((m) => m.state === "running").map((m) => m.index);
    const timeoutMs = wait.timeoutMs ?? readyTimeoutMs;
    const pending = new Set(targets);
    let lastError = "";
    const exited = await waitFor(
      "etcd members to be healthy",
      async () => {
        for (const index of [...pending]) {
          const member = memberAt(index);
          if (member.state === "stopped") {
            const why = spawnErrors.get(index)?.message ?? logTail(index);
            return `${member.name} exited while waiting for it to be healthy:\n${why}`;
          }
          const c = client(index);
          try {
            const [health, status] = await Promise.all([
              c.health({ timeoutMs: 500 }),
              c.status({ timeoutMs: 500 }),
            ]);
            member.id = status.header.memberId;
            if (health.healthy) pending.delete(index);
            else lastError = `${member.name}: unhealthy`;
          } catch (error) {
            lastError = `${member.name}: ${(error as Error).message}`;
          } finally {
            c.close();
          }
        }
        return pending.size === 0 && "";
      },
      { timeoutMs },
    ).catch(() => {
      const names = [...pending].map((i) => memberAt(i).name).join(", ");
      throw new Error(
        `etcd members ${names} not healthy in time (${lastError})\n${logTail([...pending][0] ?? 0)}`,
      );
    });
    // A member that exited will not become healthy: say so at once.
    if (exited) throw new Error(exited);
  }

  async function kill(index: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = processes.get(index);
    if (!child) return;
    if (memberAt(index).state === "paused" && signal !== "SIGKILL") child.kill("SIGCONT");
    child.kill(signal);
    if (!(await waitExit(child, 10_000)))
      throw new Error(`${memberAt(index).name} did not exit after ${signal}`);
  }

  async function stopMember(index: number): Promise<void> {
    const child = processes.get(index);
    if (!child) return;
    if (memberAt(index).state === "paused") child.kill("SIGCONT");
    child.kill("SIGTERM");
    if (!(await waitExit(child, 5000))) {
      child.kill("SIGKILL");
      await waitExit(child, 5000);
    }
  }

  function pause(index: number): void {
    const child = processes.get(index);
    if (!child) throw new Error(`${memberAt(index).name} is not running`);
    child.kill("SIGSTOP");
    memberAt(index).state = "paused";
  }

  function resume(index: number): void {
    const child = processes.get(index);
    if (!child) throw new Error(`${memberAt(index).name} is not running`);
    child.kill("SIGCONT");
    memberAt(index).state = "running";
  }

  async function restart(index: number): Promise<void> {
    await stopMember(index);
    spawnMember(memberAt(index));
    await waitHealthy({ members: [index] });
  }

  async function startAdded(address: MemberAddress): Promise<TestMember> {
    // --initial-cluster must name every started member and this one.
    const running = members.filter((m) => m.state === "running");
    const c = running[0] ? client(running[0].index) : undefined;
    if (!c) throw new Error("no running member to read the member list from");
    let list: Awaited<ReturnType<EtcdClient["memberList"]>>;
    try {
      list = await c.memberList();
    } finally {
      c.close();
    }
    const peers = list.members
      .filter((m) => m.name !== "")
      .flatMap((m) => m.peerURLs.map((url) => `${m.name}=${url}`));
    peers.push(`${address.name}=${address.peerURL}`);
    const member = addMember(address, peers.join(","), "existing");
    spawnMember(member);
    await waitHealthy({ members: [member.index] });
    return member;
  }

  async function startLearner(): Promise<TestMember> {
    const address = await allocate();
    const running = members.filter((m) => m.state === "running").map((m) => m.clientURL);
    const membership = createMembership({ ...clientOptions, endpoints: running });
    try {
      await membership.addLearner(address.peerURL);
    } finally {
      membership.close();
    }
    return startAdded(address);
  }

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    await Promise.all(
      [...processes.entries()].map(async ([index, child]) => {
        if (memberAt(index).state === "paused") child.kill("SIGCONT");
        child.kill("SIGKILL");
        await waitExit(child, 5000);
      }),
    );
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
    usedSubnets.delete(subnet);
  }

  try {
    subnet = await allocateSubnet(options.size);
    const addresses = Array.from({ length: options.size }, (_, i) => addressFor(i + 1));
    nextHost = options.size + 1;
    const initialCluster = addresses.map((a) => `${a.name}=${a.peerURL}`).join(",");
    for (const address of addresses) spawnMember(addMember(address, initialCluster, "new"));
    await waitHealthy();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    dir,
    get members() {
      return members;
    },
    get endpoints() {
      return members.map((m) => m.clientURL);
    },
    clientOptions,
    pki,
    client,
    waitHealthy,
    kill,
    stopMember,
    pause,
    resume,
    restart,
    allocate,
    startAdded,
    startLearner,
    logTail,
    stop,
  };
}
