// Test doubles for the local cloud's engine side of the instance runtime: the
// engine (CloudFormation, Auto Scaling, EC2) is another module; these tests
// exercise the runtime on its own, so a small in-memory host stands in for it.

import type {
  InstanceHost,
  InstancePhase,
  SignalStatus,
} from "../../../src/localcloud/instances/types.js";
import {
  BOOT_SETTINGS_PATH,
  type BootSettings,
  encodeBootSettings,
} from "../../../src/render/contract.js";
import { encodeDataUrl } from "../../../src/render/dataUrl.js";

export interface SignalCall {
  instanceId: string;
  status: SignalStatus;
  reason: string;
}

export class FakeHost implements InstanceHost {
  readonly tags = new Map<string, Record<string, string>>();
  readonly signals: SignalCall[] = [];
  readonly phases: { instanceId: string; phase: InstancePhase; detail?: string }[] = [];

  instanceTags(instanceId: string): Record<string, string> {
    return { ...this.tags.get(instanceId) };
  }

  signal(instanceId: string, status: SignalStatus, reason: string): void {
    this.signals.push({ instanceId, status, reason });
  }

  onPhase(instanceId: string, phase: InstancePhase, detail?: string): void {
    this.phases.push({ instanceId, phase, ...(detail === undefined ? {} : { detail }) });
  }

  /** No S3 here: the runtime tests boot no restore. */
  readObject(): undefined {
    return undefined;
  }

  addTags(instanceId: string, tags: Record<string, string>): void {
    this.tags.set(instanceId, { ...this.tags.get(instanceId), ...tags });
  }

  signalsOf(instanceId: string): SignalCall[] {
    return this.signals.filter((s) => s.instanceId === instanceId);
  }

  phasesOf(instanceId: string): InstancePhase[] {
    return this.phases.filter((p) => p.instanceId === instanceId).map((p) => p.phase);
  }

  lastPhase(instanceId: string): InstancePhase | undefined {
    return this.phasesOf(instanceId).at(-1);
  }
}

export function testBootSettings(overrides: Partial<BootSettings> = {}): BootSettings {
  return {
    cluster: "local",
    stackName: "quorate-local",
    region: "eu-west-1",
    signalResource: "EtcdGroup",
    etcdVersion: "3.4.23",
    clientPort: 2379,
    peerPort: 2380,
    scheme: "http",
    dataDir: "/var/lib/etcd",
    heartbeatIntervalMs: 100,
    electionTimeoutMs: 1000,
    quotaBackendBytes: 2147483648,
    snapshotCount: 10000,
    autoCompactionMode: "periodic",
    autoCompactionRetention: "1h",
    ...overrides,
  };
}

/** Base64 user-data: a minimal Ignition config that writes the settings file, as the renderer does. */
export function ignitionUserData(settings: BootSettings): string {
  const config = {
    ignition: { version: "3.3.0" },
    storage: {
      files: [
        {
          path: BOOT_SETTINGS_PATH,
          contents: { source: encodeDataUrl(encodeBootSettings(settings)) },
        },
      ],
    },
  };
  return Buffer.from(JSON.stringify(config), "utf8").toString("base64");
}

/** 127.<100-199>.<0-255>: a loopback /24 unlikely to clash with other tests running now. */
export function randomLoopbackPrefix(third?: number): string {
  const second = 100 + Math.floor(Math.random() * 100);
  return `127.${second}.${third ?? Math.floor(Math.random() * 256)}`;
}
