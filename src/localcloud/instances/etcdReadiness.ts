// What the bootstrap checks before cfn-signal: the local member is healthy and
// a voting member (not a learner). Over the etcd HTTP/JSON gateway; proto3
// JSON omits isLearner when false (docs/references.md#proto3-json).

const PROBE_TIMEOUT_MS = 1_000;

export type Readiness =
  | { ready: true }
  | { ready: false; reason: "unreachable" | "unhealthy" | "learner"; detail?: string };

export async function probeReadiness(clientUrl: string, signal: AbortSignal): Promise<Readiness> {
  const timed = () => AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]);
  try {
    const health = await fetch(`${clientUrl}/health`, { signal: timed() });
    const healthBody = (await health.json()) as { health?: unknown };
    if (healthBody.health !== "true") {
      return { ready: false, reason: "unhealthy", detail: JSON.stringify(healthBody) };
    }
    const status = await fetch(`${clientUrl}/v3/maintenance/status`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
      signal: timed(),
    });
    if (!status.ok)
      return { ready: false, reason: "unhealthy", detail: `status HTTP ${status.status}` };
    const statusBody = (await status.json()) as { isLearner?: unknown };
    if (statusBody.isLearner === true) return { ready: false, reason: "learner" };
    return { ready: true };
  } catch (error) {
    if (signal.aborted) throw error;
    return { ready: false, reason: "unreachable", detail: (error as Error).message };
  }
}
