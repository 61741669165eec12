/**
 * The reader replica as a supervised actor (`/dynamo/replica`): its
 * incarnation starts a Worker, builds it from the writer's published snapshot
 * while the writer carries on (the entries committed meanwhile are applied
 * after it), and publishes it in a `ReplicaSlot` for the agents and the heavy
 * reads. A Worker that fails (or whose journal diverged) fails the actor; the
 * restarted incarnation builds a fresh replica.
 */
import type { PartitionDefinition } from "../../registry/inventory/mod.ts";
import type { Behavior } from "../runtime/mod.ts";
import type { InventoryPublication } from "./publication.ts";
import { type BuildOptions, ReaderReplica } from "./reader_replica.ts";

/** Where the current replica is found; empty while one is being built. */
export class ReplicaSlot {
  #current: ReaderReplica | null = null;
  #waiters: ((r: ReaderReplica) => void)[] = [];

  get current(): ReaderReplica | null {
    return this.#current;
  }

  set(replica: ReaderReplica | null): void {
    this.#current = replica;
    if (!replica) return;
    for (const w of this.#waiters) w(replica);
    this.#waiters = [];
  }

  /** The replica once it is built and attached; rejects with the signal's reason when it aborts first. */
  whenReady(signal?: AbortSignal): Promise<ReaderReplica> {
    if (this.#current) return Promise.resolve(this.#current);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(signal!.reason);
      };
      const waiter = (r: ReaderReplica) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(r);
      };
      this.#waiters.push(waiter);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Generations the replica is behind `writerGeneration`; null when there is none. */
  lag(writerGeneration: number): number | null {
    return this.#current ? Math.max(0, writerGeneration - this.#current.applied) : null;
  }
}

export interface ReplicaActorOptions {
  publication: InventoryPublication;
  partitions: readonly PartitionDefinition[];
  slot: ReplicaSlot;
  build?: BuildOptions;
}

export type ReplicaMsg =
  | { type: "built"; ok: true }
  | { type: "built"; ok: false; error: string }
  | { type: "failed"; error: string };

interface State {
  replica: ReaderReplica;
}

export function replicaActor(options: ReplicaActorOptions): Behavior<ReplicaMsg, State> {
  return {
    async init(ctx) {
      const replica = await ReaderReplica.start({
        partitions: options.partitions,
        onFailure: (error) => ctx.self.tell({ type: "failed", error: error.message }),
      });
      // The build runs beside the writer and this actor's mailbox; its outcome comes back as a message
      // (none once the replica is closed by this incarnation's stop).
      replica.buildFrom(options.publication, options.build).then(
        (built) => built && ctx.self.tell({ type: "built", ok: true }),
        (error) => ctx.self.tell({ type: "built", ok: false, error: String(error) }),
      );
      return { replica };
    },
    receive(state, msg, ctx) {
      switch (msg.type) {
        case "built":
          if (!msg.ok) throw new Error(`The reader replica could not be built: ${msg.error}`);
          ctx.log.info("Reader replica built", { generation: state.replica.applied });
          options.slot.set(state.replica);
          return state;
        case "failed":
          throw new Error(`Reader replica failed: ${msg.error}`);
      }
    },
    onStop(state) {
      if (options.slot.current === state.replica) options.slot.set(null);
      state.replica.close();
    },
  };
}
