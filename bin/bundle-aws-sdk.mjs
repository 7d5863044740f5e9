#!/usr/bin/env node
// Build step after tsc (`npm run build`): replaces dist/aws/sdk.js, which tsc
// emits as re-exports of the @aws-sdk packages, with a bundle of just the
// names src/aws/sdk.ts exports.
//
// Why: each client package describes every operation of its service in one
// schema module, and a process pays for all of it on load (@aws-sdk/client-ec2:
// 1.3 MB of schemas, +72 MiB RSS, for DescribeInstances and CreateTags).
// Rollup follows the packages' ES builds (their `module` entries, which they
// mark free of side effects) and keeps what the exported commands reach.
// esbuild was tried first and keeps nearly all of the schemas: it treats the
// schemas' computed keys ({ [_xN]: ... }) as possible side effects.
//
// The SDK's own lazy imports (credential providers, STS for AssumeRole) stay
// lazy as chunks under dist/aws/sdk/. Nothing is changed in the SDK's code.
import { rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import json from "@rollup/plugin-json";
import { nodeResolve } from "@rollup/plugin-node-resolve";
import { rollup } from "rollup";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "dist", "aws", "sdk.js");
const chunks = join(root, "dist", "aws", "sdk");

const builtins = new Set([...builtinModules, ...builtinModules.map((name) => `node:${name}`)]);
const bundle = await rollup({
  input: entry,
  external: (id) => builtins.has(id),
  plugins: [nodeResolve({ preferBuiltins: true, exportConditions: ["node"] }), json()],
  onwarn(warning, warn) {
    // The SDK's modules import each other in cycles; rollup orders them as Node would.
    if (warning.code === "CIRCULAR_DEPENDENCY") return;
    warn(warning);
  },
});
rmSync(chunks, { recursive: true, force: true });
await bundle.write({
  dir: dirname(entry),
  format: "es",
  entryFileNames: "sdk.js",
  chunkFileNames: "sdk/[name]-[hash].js",
  sourcemap: true,
});
await bundle.close();
