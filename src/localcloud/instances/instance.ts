// One EC2 instance of the local cloud: its metadata service, its boot (which
// mirrors the rendered bootstrap script) and its etcd process.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { notReady } from "../../errors.js";
import { type BootSettings, type PeerList, STACK_TAG } from "../../render/contract.js";
import { readRestoreSettingsFromUserData } from "../../render/readUserData.js";
import { readBootSettingsFromUserData } from "../../render/userData.js";
import {
  clientUrl,
  type EtcdMember,
  etcdArgs,
  etcdFailureReason,
  type InstancePaths,
  instancePaths,
  peerUrl,
} from "./etcdCommand.js";
import {
  adoptEtcd,
  type EtcdExit,
  type EtcdProcess,
  isStopped,
  readLogSince,
  spawnEtcd,
} from "./etcdProcess.js";
import { probeReadiness } from "./etcdReadiness.js";
import { type MetadataClient, openMetadataClient } from "./metadataClient.js";
import { type MetadataService, startMetadataService } from "./metadataService.js";
import { hasMemberData, restoreSnapshot } from "./snapshotRestore.js";
import type {
  InstanceHost,
  InstancePhase,
  InstanceSpec,
  RuntimeRecord,
  SignalStatus,
} from "./types.js";

/** How often the boot polls its tags and its etcd, like the script's `sleep` in a loop. */
export const POLL_MS = 150;

export interface RuntimeContext {
  dataDir: string;
  etcdBinary: string;
  bootDelayMs: number;
  stopGraceMs: number;
  imdsPort: number;
  withoutEtcd: boolean;
  host: InstanceHost;
  log(event: Record<string, unknown>): void;
}

export class Instance {
  readonly spec: InstanceSpec;
  readonly paths: InstancePaths;
  /** Undefined until the first phase is announced to the host. */
  phase: InstancePhase | undefined;
  etcdStarted = false;
  signal: SignalStatus | undefined;
  etcd: EtcdProcess | undefined;
  private peers: PeerList | undefined;
  private settings: BootSettings | undefined;
  private metadata: MetadataService | undefined;
  private readonly abort = new AbortController();
  private readonly tasks = new Set<Promise<void>>();
  private silent = false;
  /** The bootstrap saw its member healthy; an etcd exit from then on makes it give up. */
  private seenHealthy = false;
  private bootstrapGaveUp = false;

  constructor(
    private readonly ctx: RuntimeContext,
    spec: InstanceSpec,
    record?: RuntimeRecord,
  ) {
    this.spec = spec;
    this.paths = instancePaths(ctx.dataDir, spec.instanceId);
    if (record) {
      this.phase = record.phase;
      this.etcdStarted = record.etcdStarted;
      this.signal = record.signal ?? (record.phase === "signalled" ? "SUCCESS" : undefined);
    }
  }

  record(): RuntimeRecord {
    const record: RuntimeRecord = {
      instanceId: this.spec.instanceId,
      privateIp: this.spec.privateIp,
      phase: this.phase ?? "booting",
      etcdStarted: this.etcdStarted,
    };
    if (this.etcd) record.pid = this.etcd.pid;
    if (this.signal) record.signal = this.signal;
    return record;
  }

  log(event: string, fields: Record<string, unknown> = {}): void {
    if (!this.silent) this.ctx.log({ event, instanceId: this.spec.instanceId, ...fields });
  }

  setPhase(phase: InstancePhase, detail?: string): void {
    if (this.silent || this.phase === phase) return;
    this.phase = phase;
    this.log("phase", detail === undefined ? { phase } : { phase, detail });
    this.ctx.host.onPhase(this.spec.instanceId, phase, detail);
  }

  /** The bootstrap signals once, and only SUCCESS (src/render/bootstrapScript.ts). */
  private sendSignal(status: SignalStatus, reason: string): void {
    if (this.silent || this.signal) return;
    this.signal = status;
    this.log("signal", { status, reason });
    this.ctx.host.signal(this.spec.instanceId, status, reason);
  }

  /** Like the script's `die`: it stops and sends no signal; CloudFormation times the batch out. */
  private fail(reason: string): void {
    this.log("boot-failed", { reason });
    this.setPhase("boot-failed", reason);
  }

  /** Runs a background step; an error in it fails the boot unless the instance is going away. */
  private track(task: () => Promise<void>): void {
    void this.hold(task()).catch((error: unknown) => {
      if (!this.abort.signal.aborted) this.fail((error as Error).message);
    });
  }

  /** Makes shutdown wait for a step that may spawn etcd, so no process escapes it. */
  private hold<T>(step: Promise<T>): Promise<T> {
    const settled = step.then(
      () => {},
      () => {},
    );
    this.tasks.add(settled);
    void settled.then(() => this.tasks.delete(settled));
    return step;
  }

  private async openMetadata(): Promise<void> {
    if (this.ctx.withoutEtcd) return; // scale tests: thousands of instances, no listeners
    try {
      this.metadata = await startMetadataService({
        address: this.spec.privateIp,
        port: this.ctx.imdsPort,
        instanceId: this.spec.instanceId,
        imageId: this.spec.imageId,
        userDataBase64: this.spec.userDataBase64,
        tags: () => this.ctx.host.instanceTags(this.spec.instanceId),
      });
    } catch (error) {
      throw new Error(
        `instance metadata could not listen on ${this.spec.privateIp}:${this.ctx.imdsPort}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.log("metadata-listening", { url: this.metadataUrl() });
  }

  private metadataUrl(): string {
    return `http://${this.spec.privateIp}:${this.metadata?.port ?? this.ctx.imdsPort}`;
  }

  /** Opens the metadata service and boots, in the background. */
  launch(): void {
    this.setPhase("booting");
    this.track(async () => {
      await this.openMetadata();
      await this.runBoot();
    });
  }

  /** Boots again from the start (restore of an instance that never started etcd). */
  private boot(): void {
    this.track(() => this.runBoot());
  }

  private async runBoot(): Promise<void> {
    const signal = this.abort.signal;
    this.setPhase("booting");
    await sleep(this.ctx.bootDelayMs, undefined, { signal });
    if (this.ctx.withoutEtcd) {
      readBootSettingsFromUserData(this.spec.userDataBase64); // unreadable user-data still fails
      this.log("booted-without-etcd", { note: "scale-test mode: no etcd process runs" });
      this.sendSignal("SUCCESS", "booted (local cloud runs instances without etcd)");
      this.setPhase("signalled");
      return;
    }
    const settings = this.bootSettings();
    this.setPhase("waiting-for-peers");
    const imds = await openMetadataClient(this.metadataUrl(), signal);
    const instanceId = (await imds.get("/latest/meta-data/instance-id")) ?? this.spec.instanceId;
    const privateIp = (await imds.get("/latest/meta-data/local-ipv4")) ?? this.spec.privateIp;
    let peers: PeerList | undefined;
    for (;;) {
      try {
        peers = await imds.peerList();
      } catch (error) {
        if (signal.aborted) throw error;
        this.log("metadata-error", { error: (error as Error).message });
      }
      if (peers) break;
      await sleep(POLL_MS, undefined, { signal });
    }
    this.log("peer-list", { ...peers });
    this.peers = peers;
    await mkdir(this.paths.dir, { recursive: true });
    await this.restoreIfAsked(imds, settings, instanceId, privateIp, peers);
    await writeFile(this.paths.peersFile, `${JSON.stringify(peers)}\n`);
    await this.startEtcd(this.member(settings, instanceId, privateIp), peers.state);
  }

  /** The bootstrap's restore step: only a member of a new cluster, into an empty data dir. */
  private async restoreIfAsked(
    imds: MetadataClient,
    settings: BootSettings,
    instanceId: string,
    privateIp: string,
    peers: PeerList,
  ): Promise<void> {
    const restore = readRestoreSettingsFromUserData(this.spec.userDataBase64);
    if (!restore || peers.state !== "new" || hasMemberData(this.paths)) return;
    const signal = this.abort.signal;
    let pinned: { key: string; sha256: string } | undefined;
    for (;;) {
      const key = await imds.get(`/latest/meta-data/tags/instance/${STACK_TAG.restoreSnapshot}`);
      const sha256 = await imds.get(`/latest/meta-data/tags/instance/${STACK_TAG.restoreSha256}`);
      if (key && sha256) pinned = { key, sha256 };
      if (pinned) break;
      await sleep(POLL_MS, undefined, { signal });
    }
    this.setPhase("restoring", pinned.key);
    const said = await this.hold(
      restoreSnapshot({
        settings: restore,
        snapshotKey: pinned.key,
        sha256: pinned.sha256,
        instanceId,
        peerUrl: peerUrl(this.member(settings, instanceId, privateIp)),
        peers,
        paths: this.paths,
        etcdBinary: this.ctx.etcdBinary,
        readObject: (bucket, key) => this.ctx.host.readObject(bucket, key),
      }),
    );
    this.log("restored", { message: said });
  }

  private bootSettings(): BootSettings {
    this.settings ??= readBootSettingsFromUserData(this.spec.userDataBase64);
    if (this.settings.scheme !== "http") {
      throw new Error(
        `the local cloud runs etcd without TLS, but the user-data asks for ${this.settings.scheme}; ` +
          "disable etcd.tls in the manifest for local clusters",
      );
    }
    return this.settings;
  }

  private member(
    settings: BootSettings,
    instanceId = this.spec.instanceId,
    privateIp = this.spec.privateIp,
  ): EtcdMember {
    return { instanceId, privateIp, paths: this.paths, settings };
  }

  private async startEtcd(member: EtcdMember, state: "new" | "existing"): Promise<void> {
    if (this.abort.signal.aborted) return;
    await mkdir(this.paths.dir, { recursive: true });
    this.setPhase("starting-etcd");
    const args = etcdArgs(member, this.peers, state);
    const proc = await spawnEtcd(this.ctx.etcdBinary, args, this.paths);
    if (this.abort.signal.aborted && !this.silent) {
      await proc.stop(this.ctx.stopGraceMs); // terminated while it was spawning
      return;
    }
    this.etcd = proc;
    this.etcdStarted = true;
    this.log("etcd-started", { pid: proc.pid, args, log: this.paths.etcdLog });
    this.watch(proc, member);
  }

  private watch(proc: EtcdProcess, member: EtcdMember): void {
    void proc.exited.then((exit) => this.onExit(proc, exit));
    this.setPhase(isStopped(proc.pid) ? "paused" : this.upPhase());
    if (!this.signal && !this.bootstrapGaveUp) {
      this.track(() => this.awaitReady(proc, clientUrl(member)));
    }
  }

  private upPhase(): InstancePhase {
    return this.signal === "SUCCESS" ? "signalled" : "running";
  }

  /** The bootstrap's last step: wait until the local member is healthy and voting, then signal. */
  private async awaitReady(proc: EtcdProcess, url: string): Promise<void> {
    const signal = this.abort.signal;
    let last: string | undefined;
    while (this.etcd === proc && !proc.hasExited()) {
      const readiness = await probeReadiness(url, signal);
      if (this.etcd !== proc || proc.hasExited()) return;
      if (readiness.ready) {
        this.sendSignal("SUCCESS", `etcd member ${this.spec.instanceId} is healthy and voting`);
        if (this.phase === "running") this.setPhase("signalled");
        return;
      }
      if (readiness.reason === "learner") this.seenHealthy = true;
      if (readiness.reason !== last) this.log("etcd-not-ready", { ...readiness });
      last = readiness.reason;
      await sleep(POLL_MS, undefined, { signal });
    }
  }

  private onExit(proc: EtcdProcess, exit: EtcdExit): void {
    if (this.etcd !== proc || this.abort.signal.aborted) return; // replaced or being stopped
    this.etcd = undefined;
    // A kill says all there is to say; an error exit's cause is in etcd's log.
    const reason =
      exit.signal || exit.code === 0
        ? undefined
        : etcdFailureReason(readLogSince(this.paths, proc.logOffset));
    this.log("etcd-exited", { pid: proc.pid, ...exit, reason });
    const how = exit.signal
      ? `killed by ${exit.signal}`
      : `exited with code ${exit.code ?? "unknown (adopted process)"}`;
    this.setPhase("etcd-exited", reason ? `${how}: ${reason}` : how);
    // No FAILURE signal: the bootstrap script sends none either (it exits, and
    // CloudFormation fails the batch on PauseTime), so neither does this. Like
    // the script, restarts before the member first answered healthy are start-up
    // retries; an exit after that makes the bootstrap give up for good.
    if (!this.signal && this.seenHealthy && !this.bootstrapGaveUp) {
      this.bootstrapGaveUp = true;
      this.log("bootstrap-gave-up", { reason: "etcd exited after it was healthy; no signal" });
    }
  }

  runningEtcd(action: string): EtcdProcess {
    if (!this.etcd) {
      throw notReady(
        `cannot ${action} etcd on ${this.spec.instanceId}: no etcd process runs (phase ${this.phase})`,
        "wait until the instance is past starting-etcd, or restartEtcd it",
      );
    }
    return this.etcd;
  }

  /** A member that comes back: etcd again on its existing data dir. */
  async restartEtcd(): Promise<void> {
    if (!this.etcdStarted) {
      throw notReady(
        `cannot restart etcd on ${this.spec.instanceId}: it never started (phase ${this.phase})`,
        "wait until the boot has started etcd",
      );
    }
    if (this.abort.signal.aborted) {
      throw notReady(`cannot restart etcd on ${this.spec.instanceId}: it is stopping`);
    }
    const old = this.etcd;
    this.etcd = undefined;
    await this.hold(
      (async () => {
        if (old) await old.stop(this.ctx.stopGraceMs);
        await this.startOnDataDir();
      })(),
    );
  }

  private async startOnDataDir(): Promise<void> {
    this.peers ??= await this.readPeersFile();
    await this.startEtcd(this.member(this.bootSettings()), "existing");
  }

  private async readPeersFile(): Promise<PeerList | undefined> {
    try {
      return JSON.parse(await readFile(this.paths.peersFile, "utf8")) as PeerList;
    } catch {
      return undefined; // etcd ignores --initial-cluster once its data dir holds a member
    }
  }

  /** After a local-cloud restart: adopt the live etcd, or start it again, or boot again. */
  async restore(livePid: number | undefined): Promise<void> {
    await this.openMetadata();
    if (this.ctx.withoutEtcd) {
      if (this.signal === "SUCCESS") this.setPhase("signalled");
      else this.boot();
      return;
    }
    if (livePid !== undefined) {
      const proc = adoptEtcd(livePid, this.paths);
      this.etcd = proc;
      this.etcdStarted = true;
      this.peers = await this.readPeersFile();
      this.log("etcd-adopted", { pid: livePid });
      try {
        this.watch(proc, this.member(this.bootSettings()));
      } catch (error) {
        this.fail((error as Error).message);
      }
      return;
    }
    if (this.etcdStarted) {
      this.track(() => this.startOnDataDir());
      return;
    }
    this.boot();
  }

  /** Stops everything this instance runs; removes its data when it is terminated. */
  async shutdown(removeData: boolean): Promise<void> {
    this.setPhase("stopping");
    this.abort.abort();
    await Promise.allSettled([...this.tasks]);
    const proc = this.etcd;
    if (proc) {
      await proc.stop(this.ctx.stopGraceMs);
      proc.release();
      this.log("etcd-stopped", { pid: proc.pid });
    }
    this.etcd = undefined;
    await this.metadata?.close();
    this.metadata = undefined;
    if (removeData) {
      await rm(this.paths.dir, { recursive: true, force: true });
      this.setPhase("terminated");
    }
  }

  /** Forgets the instance without stopping etcd, as a local cloud killed with SIGKILL would. */
  async detach(): Promise<void> {
    this.silent = true;
    this.abort.abort();
    await Promise.allSettled([...this.tasks]);
    this.etcd?.release();
    await this.metadata?.close();
  }
}
