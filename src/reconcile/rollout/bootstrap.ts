// A new stack's cluster: once every instance of the group has launched and
// waits in its hook, all get the same "new" peer list and are released
// together. Instances that already have theirs (a restart mid-bootstrap) are
// released as they are. Pure.
import { decided, type RolloutDecision, type RolloutMemory, release } from "./decision.js";
import {
  HELD_LAUNCHING,
  peerURL,
  type RolloutFacts,
  type RolloutObservation,
} from "./observation.js";

export function bootstrap(
  observation: RolloutObservation,
  facts: RolloutFacts,
  memory: RolloutMemory,
): RolloutDecision {
  const live = observation.instances.filter((i) => i.lifecycleState !== "Terminated");
  const expected = Math.max(observation.desiredCapacity ?? 0, live.length);
  const published = live.filter((i) => i.peerList?.state === "new");
  const heldPublished = published.filter((i) => i.lifecycleState === HELD_LAUNCHING);
  if (heldPublished.length > 0) {
    return decided(
      memory,
      "bootstrapping",
      "releasing the bootstrapped instances",
      heldPublished.map((i) => release(i, "launching", "it has the new cluster's peer list")),
    );
  }
  if (published.length > 0) {
    return decided(
      memory,
      "bootstrapping",
      `waiting for the ${published.length} new members to start`,
      [],
    );
  }
  const ready = live.filter((i) => i.lifecycleState === HELD_LAUNCHING && i.privateIp);
  if (expected === 0) {
    return decided(memory, "bootstrapping", "waiting for the group to launch its instances", []);
  }
  if (ready.length < expected) {
    return decided(
      memory,
      "bootstrapping",
      `waiting for instances to launch: ${ready.length} of ${expected} ready`,
      [],
    );
  }
  const sorted = [...ready].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  const initialCluster = sorted
    .map((i) => `${i.instanceId}=${peerURL(facts, i.privateIp ?? "")}`)
    .join(",");
  // A token per bootstrap: a new cluster never mistakes an old one's members for its own.
  const token = `${facts.cluster}-${shortHash(initialCluster)}`;
  return decided(memory, "bootstrapping", `bootstrapping a ${sorted.length}-member cluster`, [
    { kind: "bootstrap", instanceIds: sorted.map((i) => i.instanceId), initialCluster, token },
  ]);
}

function shortHash(text: string): string {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}
