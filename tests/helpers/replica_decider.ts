import { replicaActor, ReplicaSlot } from "../../actors/inventory/replica_host.ts";
import type { PartitionDefinition } from "../../registry/inventory/mod.ts";
import type { startWriter } from "./writer.ts";

type Writer = Awaited<ReturnType<typeof startWriter>>;

/** A real reader replica in a Worker beside a test writer (`startWriter`), built and caught up. */
export async function startReplica(w: Writer, partitions: readonly PartitionDefinition[]) {
  const slot = new ReplicaSlot();
  w.system.spawn({
    id: "replica",
    restart: "permanent",
    behavior: () => replicaActor({ publication: w.publication, partitions, slot }),
  });
  return { slot, replica: await slot.whenReady() };
}

/**
 * A decider (Detox's or the Dealer's) that runs a write set with `setBetween` once, after the
 * replica's decision and before the agent commits it: the case of someone else's write landing
 * while the decision travels back.
 */
export function withWriteBetween<R, D>(inner: { decide(request: R): Promise<D> }) {
  let between: (() => Promise<void>) | null = null;
  return {
    decider: {
      async decide(request: R): Promise<D> {
        const decision = await inner.decide(request);
        const write = between;
        between = null;
        await write?.();
        return decision;
      },
    },
    setBetween: (f: () => Promise<void>) => {
      between = f;
    },
  };
}

/** A decider that tells when it is first asked (`asked` resolves), then decides as `inner` does. */
export function tellingWhenAsked<R, D>(inner: { decide(request: R): Promise<D> }) {
  let told!: () => void;
  const asked = new Promise<void>((resolve) => (told = resolve));
  return { decider: { decide: (request: R) => (told(), inner.decide(request)) }, asked };
}
