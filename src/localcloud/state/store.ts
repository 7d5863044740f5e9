// The local cloud's state in memory, persisted under <dataDir>/state as one
// JSON file per stack (the stack with its groups, instances, launch templates
// and other resources) plus meta.json. A file is replaced atomically (temp
// file + rename), so a local cloud killed at any moment restarts from a
// consistent copy of every stack. Only stacks changed since the last flush are
// written, which keeps a flush cheap with thousands of stacks.
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type {
  GroupRecord,
  InstanceRecord,
  LaunchTemplateRecord,
  PlainResourceRecord,
  StackRecord,
} from "./model.js";

export interface MetaState {
  version: 1;
  /** Next instance address, counted from the network base. */
  nextAddress: number;
}

interface StackFile {
  stack: StackRecord;
  groups: GroupRecord[];
  instances: InstanceRecord[];
  launchTemplates: LaunchTemplateRecord[];
  plain: PlainResourceRecord[];
}

type Owned = { owner: string };

/** A map of records that belong to a stack, with an index by owner. */
export class OwnedMap<T extends Owned> {
  private readonly items = new Map<string, T>();
  private readonly byOwner = new Map<string, Set<string>>();

  constructor(private readonly onChange: (owner: string) => void) {}

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  values(): IterableIterator<T> {
    return this.items.values();
  }

  get size(): number {
    return this.items.size;
  }

  ownedBy(owner: string): T[] {
    const keys = this.byOwner.get(owner);
    if (!keys) return [];
    return [...keys].map((key) => this.items.get(key)).filter((v): v is T => v !== undefined);
  }

  set(key: string, value: T): void {
    const old = this.items.get(key);
    if (old && old.owner !== value.owner) this.unindex(key, old.owner);
    this.items.set(key, value);
    let keys = this.byOwner.get(value.owner);
    if (!keys) {
      keys = new Set();
      this.byOwner.set(value.owner, keys);
    }
    keys.add(key);
    this.onChange(value.owner);
  }

  delete(key: string): void {
    const old = this.items.get(key);
    if (!old) return;
    this.items.delete(key);
    this.unindex(key, old.owner);
    this.onChange(old.owner);
  }

  private unindex(key: string, owner: string): void {
    const keys = this.byOwner.get(owner);
    keys?.delete(key);
    if (keys?.size === 0) this.byOwner.delete(owner);
  }
}

export class Store {
  readonly stacks = new Map<string, StackRecord>();
  readonly groups: OwnedMap<GroupRecord>;
  readonly instances: OwnedMap<InstanceRecord>;
  readonly launchTemplates: OwnedMap<LaunchTemplateRecord>;
  readonly plain: OwnedMap<PlainResourceRecord>;
  meta: MetaState = { version: 1, nextAddress: 1 };

  private readonly dirty = new Set<string>();
  private metaDirty = false;
  private readonly stackDir: string;
  private readonly metaPath: string;

  private constructor(readonly dir: string) {
    const touch = (owner: string) => this.dirty.add(owner);
    this.groups = new OwnedMap(touch);
    this.instances = new OwnedMap(touch);
    this.launchTemplates = new OwnedMap(touch);
    this.plain = new OwnedMap(touch);
    this.stackDir = join(dir, "stacks");
    this.metaPath = join(dir, "meta.json");
  }

  /** Opens (and creates) the state directory and loads everything in it. */
  static open(dir: string): Store {
    const store = new Store(dir);
    mkdirSync(store.stackDir, { recursive: true });
    if (existsSync(store.metaPath)) {
      store.meta = JSON.parse(readFileSync(store.metaPath, "utf8")) as MetaState;
    }
    for (const name of readdirSync(store.stackDir)) {
      if (name.endsWith(".tmp")) {
        rmSync(join(store.stackDir, name), { force: true }); // a write a crash interrupted
        continue;
      }
      if (!name.endsWith(".json")) continue;
      const file = JSON.parse(readFileSync(join(store.stackDir, name), "utf8")) as StackFile;
      store.stacks.set(file.stack.stackId, file.stack);
      for (const g of file.groups) store.groups.set(g.name, g);
      for (const i of file.instances) store.instances.set(i.instanceId, i);
      for (const t of file.launchTemplates) store.launchTemplates.set(t.id, t);
      for (const p of file.plain) store.plain.set(p.physicalId, p);
    }
    store.dirty.clear();
    return store;
  }

  /** Marks a stack's file for writing at the next flush. */
  touch(stackId: string): void {
    this.dirty.add(stackId);
  }

  touchMeta(): void {
    this.metaDirty = true;
  }

  putStack(stack: StackRecord): void {
    this.stacks.set(stack.stackId, stack);
    this.dirty.add(stack.stackId);
  }

  /** Writes every changed stack file (and meta.json) atomically. */
  flush(): void {
    for (const stackId of this.dirty) {
      const stack = this.stacks.get(stackId);
      const path = join(this.stackDir, fileNameOf(stackId));
      if (!stack) {
        rmSync(path, { force: true });
        continue;
      }
      const file: StackFile = {
        stack,
        groups: this.groups.ownedBy(stackId),
        instances: this.instances.ownedBy(stackId),
        launchTemplates: this.launchTemplates.ownedBy(stackId),
        plain: this.plain.ownedBy(stackId),
      };
      writeAtomically(path, JSON.stringify(file));
    }
    this.dirty.clear();
    if (this.metaDirty) {
      writeAtomically(this.metaPath, JSON.stringify(this.meta));
      this.metaDirty = false;
    }
  }

  /** Forgets everything on disk and in memory (local reset). */
  static wipe(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid> -> <name>-<uuid>.json */
function fileNameOf(stackId: string): string {
  const parts = stackId.split("/");
  const name = `${parts[1] ?? "stack"}-${parts[2] ?? ""}`;
  return `${name.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`;
}

let tempCounter = 0;

function writeAtomically(path: string, text: string): void {
  const temp = `${path}.${process.pid}.${++tempCounter}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}
