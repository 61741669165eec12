/**
 * The reader replica as a supervised actor (`/dynamo/replica`): its
 * incarnation starts a Worker, has the writer stream the tables into it
 * between two batches, and publishes it in a `ReplicaSlot` for the agents and
 * the heavy reads. A Worker that fails (or whose journal diverged) fails the
 * actor; the restarted incarnation builds a fresh replica.
 */
import type { PartitionDefinition } from "../../registry/inventory/mod.ts";
import type { ActorRef, Behavior } from "../runtime/mod.ts";
import type { InventoryMsg } from "./inventory_actor.ts";
import type { InventoryPublication } from "./publication.ts";
import { ReaderReplica } from "./reader_replica.ts";

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

  /** The replica once it is built and attached. */
  whenReady(): Promise<ReaderReplica> {
    if (this.#current) return Promise.resolve(this.#current);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Generations the replica is behind `writerGeneration`; null when there is none. */
  lag(writerGeneration: number): number | null {
    return this.#current ? Math.max(0, writerGeneration - this.#current.applied) : null;
  }
}

export interface ReplicaActorOptions {
  writer: ActorRef<InventoryMsg>;
  publication: InventoryPublication;
  partitions: readonly PartitionDefinition[];
  slot: ReplicaSlot;
}

export type ReplicaMsg =
  | { type: "attached"; ok: true }
  | { type: "attached"; ok: false; error: string }
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
      // The writer answers by message: this actor never waits for it.
      options.writer.tell({
        type: "attach",
        attach: (tables) => replica.attachTo(tables, options.publication),
        replyTo: { address: ctx.address, tell: (r) => ctx.self.tell({ type: "attached", ...r }) },
      });
      return { replica };
    },
    receive(state, msg, ctx) {
      switch (msg.type) {
        case "attached":
          if (!msg.ok) throw new Error(`The writer could not attach the reader replica: ${msg.error}`);
          ctx.log.info("Reader replica attached", { generation: options.publication.snapshot().generation });
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
