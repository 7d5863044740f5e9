import { defineConfig } from "vitest/config";

// The AWS SDK warns that its releases after January 2027 need Node 22; the
// lockfile pins one that supports Node 20 (bin/quorate silences it the same way).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// Integration tests start real etcd processes and a local cloud on loopback;
// they get their own project so `npm run test:unit` stays fast.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          sequence: { groupOrder: 0 },
          include: ["test/**/*.test.ts"],
          exclude: ["test/integration/**"],
        },
      },
      {
        test: {
          name: "integration",
          sequence: { groupOrder: 1 },
          include: ["test/integration/**/*.test.ts"],
          // A failed story prints the rollout events it recorded.
          setupFiles: ["test/helpers/failureEvents.ts"],
          testTimeout: 180_000,
          hookTimeout: 60_000,
          // Each file starts its own etcd members and local cloud; two at a time fit two cores.
          maxWorkers: 2,
        },
      },
    ],
  },
});
