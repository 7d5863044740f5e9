// What rendered user-data puts on an instance, written under a root directory
// the way Ignition (files, units, drop-ins) or coreos-cloudinit (write_files,
// coreos.units) would, so that host tools (systemd-analyze, shellcheck, sh)
// read each file at the path the instance has it.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { decodeDataUrl } from "../../src/render/dataUrl.js";

export interface InstanceFile {
  path: string;
  mode: number;
  content: string;
}

export interface InstanceUnit {
  name: string;
  contents?: string;
  dropins: { name: string; contents: string }[];
}

export interface UserDataContents {
  files: InstanceFile[];
  units: InstanceUnit[];
}

/** The files and units of rendered user-data text (Ignition JSON or #cloud-config). */
export function userDataContents(text: string): UserDataContents {
  if (text.startsWith("#cloud-config")) {
    const config = parseYaml(text) as any;
    return {
      files: (config.write_files ?? []).map((f: any) => ({
        path: f.path,
        mode: Number.parseInt(f.permissions, 8),
        content: f.content,
      })),
      units: (config.coreos?.units ?? []).map((u: any) => ({
        name: u.name,
        contents: u.content,
        dropins: (u["drop-ins"] ?? []).map((d: any) => ({ name: d.name, contents: d.content })),
      })),
    };
  }
  const config = JSON.parse(text) as any;
  return {
    files: (config.storage?.files ?? []).map((f: any) => ({
      path: f.path,
      mode: f.mode,
      content: decodeDataUrl(f.contents.source),
    })),
    units: (config.systemd?.units ?? []).map((u: any) => ({
      name: u.name,
      contents: u.contents,
      dropins: u.dropins ?? [],
    })),
  };
}

/** Writes files, units (/etc/systemd/system) and drop-ins (NAME.d/) under root. */
export function writeInstanceRoot(root: string, contents: UserDataContents): void {
  for (const file of contents.files) {
    const path = join(root, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
    chmodSync(path, file.mode);
  }
  const unitDir = join(root, "etc/systemd/system");
  mkdirSync(unitDir, { recursive: true });
  for (const unit of contents.units) {
    if (unit.contents !== undefined) writeFileSync(join(unitDir, unit.name), unit.contents);
    for (const dropin of unit.dropins) {
      mkdirSync(join(unitDir, `${unit.name}.d`), { recursive: true });
      writeFileSync(join(unitDir, `${unit.name}.d`, dropin.name), dropin.contents);
    }
  }
}
