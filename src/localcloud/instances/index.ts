// The local cloud's instance runtime: what the engine imports.
export { instancePaths } from "./etcdCommand.js";
export { killRecordedInstanceProcesses } from "./recordedProcesses.js";
export { createInstanceRuntime } from "./runtime.js";
export type * from "./types.js";
