import { type InventoryState, type PartitionDefinition, replayEntry } from "../../registry/inventory/mod.ts";
import type { InventoryStore } from "../../adapters/db/inventory_store_port.ts";
import type { ActorRef, Behavior } from "../runtime/mod.ts";
import type { InventoryMsg } from "./inventory_actor.ts";
import type { InventoryPublication } from "./publication.ts";

/** What a follower answers to a submission: writes belong to the leader. */
export const NOT_THE_WRITER = "This server follows the inventory; writes go to the leader";

export interface JournalFollowerOptions {
  store: Pick<InventoryStore, "loadTables" | "journalSince">;
  partitions: readonly PartitionDefinition[];
  publication: InventoryPublication;
  /** Calls back on each commit notification (LISTEN); resolves to an unsubscribe. */
  listen?: (onCommit: () => void) => Promise<() => Promise<void>>;
  /** Catch-up interval whatever the notifications do: a missed one only delays (default 1 s). */
  pollMs?: number;
  onLoadProgress?: (table: string, rows: number) => void;
}

export type FollowerMsg = InventoryMsg | { type: "catch_up" };

interface State {
  head: InventoryState;
  unlisten: (() => Promise<void>) | null;
}

/**
 * The inventory of a follower node (docs/cluster.md): the same load as the
 * writer's, then the committed journal applied with the same reducer, woken by
 * NOTIFY and by a timer, in sequence order. It publishes like the writer, so
 * every read endpoint serves the follower's own snapshot; it never writes.
 */
export function journalFollower(options: JournalFollowerOptions): Behavior<FollowerMsg, State> {
  const pollMs = options.pollMs ?? 1000;
  return {
    async init(ctx) {
      let head = await options.store.loadTables(
        options.partitions,
        (p) => options.onLoadProgress?.(p.table, p.rows),
      );
      for (;;) {
        const entries = await options.store.journalSince(head.generation, 1000);
        if (entries.length === 0) break;
        for (const entry of entries) head = replayEntry(head, entry);
      }
      options.publication.publishLoaded(head);
      const self = ctx.self as ActorRef<FollowerMsg>;
      const unlisten = options.listen ? await options.listen(() => self.tell({ type: "catch_up" })) : null;
      ctx.timers.startPeriodic("catch_up", pollMs, { type: "catch_up" });
      ctx.log.info("Inventory loaded; following the journal", { generation: head.generation });
      return { head, unlisten };
    },

    async receive(state, msg) {
      switch (msg.type) {
        case "submit":
          msg.replyTo.tell({ ok: false, error: NOT_THE_WRITER });
          return state;
        case "catch_up": {
          for (;;) {
            const entries = await options.store.journalSince(state.head.generation, 1000);
            for (const entry of entries) {
              state.head = replayEntry(state.head, entry);
              options.publication.publishCommitted(entry, state.head);
            }
            if (entries.length < 1000) return state;
          }
        }
        case "flush":
        case "written":
        case "published":
        case "commit_failed":
          return state;
      }
    },

    async onStop(state) {
      await state.unlisten?.().catch(() => {});
    },
  };
}
