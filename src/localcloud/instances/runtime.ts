// The instance runtime: the engine decides when instances launch and
// terminate, this makes each one real (types.ts describes the seam).
import { resolve } from "node:path";
import { notReady, terminal } from "../../errors.js";
import { isEtcdOfInstance } from "./etcdCommand.js";
import { isAlive, readCmdline, readPidFile } from "./etcdProcess.js";
import { Instance, type RuntimeContext } from "./instance.js";
import type {
  InstanceRuntime,
  InstanceRuntimeOptions,
  InstanceSpec,
  RuntimeRecord,
} from "./types.js";

export function createInstanceRuntime(options: InstanceRuntimeOptions): InstanceRuntime {
  const log = options.log ?? (() => {});
  const ctx: RuntimeContext = {
    dataDir: resolve(options.dataDir),
    etcdBinary: options.etcdBinary ?? "etcd",
    bootDelayMs: options.bootDelayMs,
    stopGraceMs: options.stopGraceMs,
    imdsPort: options.imdsPort,
    withoutEtcd: options.withoutEtcd ?? false,
    host: options.host,
    log,
  };
  if (ctx.withoutEtcd) {
    log({ event: "runtime-without-etcd", note: "instances run without etcd (scale-test mode)" });
  }
  const instances = new Map<string, Instance>();
  const terminations = new Map<string, Promise<void>>();
  let closed: string | undefined;

  const open = (instanceId: string, action: string) => {
    if (closed) {
      throw terminal(`cannot ${action} ${instanceId}: the instance runtime was ${closed}`);
    }
    if (instances.has(instanceId)) {
      throw terminal(`cannot ${action} ${instanceId}: the runtime already runs it`);
    }
  };

  const get = (instanceId: string): Instance => {
    const instance = instances.get(instanceId);
    if (!instance) {
      throw notReady(`instance ${instanceId} is not running in the local cloud`);
    }
    return instance;
  };

  return {
    launch(spec: InstanceSpec): void {
      open(spec.instanceId, "launch");
      const instance = new Instance(ctx, spec);
      instances.set(spec.instanceId, instance);
      log({ event: "launch", instanceId: spec.instanceId, privateIp: spec.privateIp });
      instance.launch();
    },

    terminate(instanceId: string): Promise<void> {
      const pending = terminations.get(instanceId);
      if (pending) return pending;
      const instance = instances.get(instanceId);
      if (!instance) return Promise.resolve();
      const done = instance.shutdown(true).finally(() => {
        instances.delete(instanceId);
        terminations.delete(instanceId);
      });
      terminations.set(instanceId, done);
      return done;
    },

    async restore(spec: InstanceSpec, record: RuntimeRecord): Promise<void> {
      open(spec.instanceId, "restore");
      const instance = new Instance(ctx, spec, record);
      instances.set(spec.instanceId, instance);
      const livePid = ctx.withoutEtcd ? undefined : findLiveEtcd(instance, record);
      log({ event: "restore", instanceId: spec.instanceId, record, livePid });
      await instance.restore(livePid);
    },

    killEtcd(instanceId: string, signal: NodeJS.Signals = "SIGKILL"): void {
      const instance = get(instanceId);
      const proc = instance.runningEtcd("kill");
      instance.log("fault-kill", { pid: proc.pid, signal });
      proc.kill(signal);
    },

    pauseEtcd(instanceId: string): void {
      const instance = get(instanceId);
      const proc = instance.runningEtcd("pause");
      instance.log("fault-pause", { pid: proc.pid });
      proc.kill("SIGSTOP");
      instance.setPhase("paused");
    },

    resumeEtcd(instanceId: string): void {
      const instance = get(instanceId);
      const proc = instance.runningEtcd("resume");
      instance.log("fault-resume", { pid: proc.pid });
      proc.kill("SIGCONT");
      instance.setPhase(instance.signal === "SUCCESS" ? "signalled" : "running");
    },

    async restartEtcd(instanceId: string): Promise<void> {
      const instance = get(instanceId);
      instance.log("fault-restart", {});
      await instance.restartEtcd();
    },

    records(): RuntimeRecord[] {
      return [...instances.values()].map((instance) => instance.record());
    },

    async stopAll(): Promise<void> {
      closed ??= "stopped";
      await Promise.allSettled([...terminations.values()]);
      await Promise.all([...instances.values()].map((instance) => instance.shutdown(false)));
      log({ event: "stopped-all", instances: instances.size });
    },

    async detach(): Promise<void> {
      closed ??= "detached";
      await Promise.all([...instances.values()].map((instance) => instance.detach()));
      log({ event: "detached", instances: instances.size });
      instances.clear();
    },
  };
}

/**
 * The etcd this instance ran before the restart, if it still runs: by the
 * recorded pid or the pid file, and only if /proc shows etcd on this
 * instance's data dir (a pid may have been reused by another process).
 */
function findLiveEtcd(instance: Instance, record: RuntimeRecord): number | undefined {
  const candidates = [record.pid, readPidFile(instance.paths)];
  return candidates.find(
    (pid): pid is number =>
      pid !== undefined &&
      isAlive(pid) &&
      isEtcdOfInstance(readCmdline(pid), instance.paths, instance.spec.instanceId),
  );
}
