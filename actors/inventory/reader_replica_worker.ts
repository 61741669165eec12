/// <reference lib="deno.worker" />
/**
 * A reader replica in its own isolate: it starts empty and applies committed
 * journal entries with the same reducer as the writer (docs/architecture.md), so it
 * can serve reads without ever copying whole snapshots across threads.
 */
import {
  DEFAULT_PARTITIONS,
  emptyState,
  inventoryDigest,
  type InventoryState,
  type PartitionDefinition,
  PartitionTable,
  replayEntry,
  Snapshot,
} from "../../registry/inventory/mod.ts";
import type { FromReplica, ReplicaQuery, ToReplica } from "./reader_replica_protocol.ts";

let state: InventoryState | null = null;

function send(msg: FromReplica): void {
  self.postMessage(msg);
}

function answer(query: ReplicaQuery): unknown {
  const snap = new Snapshot(state!);
  switch (query.kind) {
    case "generation":
      return snap.generation;
    case "digest":
      return inventoryDigest(snap.state);
    case "dataset":
      return snap.dataset(query.name) ?? null;
  }
}

self.onmessage = async (event: MessageEvent<ToReplica>) => {
  const msg = event.data;
  try {
    switch (msg.type) {
      case "init": {
        const partitions: readonly PartitionDefinition[] = msg.partitionsModule
          ? (await import(msg.partitionsModule)).partitions
          : DEFAULT_PARTITIONS;
        state = emptyState(new PartitionTable(partitions));
        send({ type: "ready" });
        return;
      }
      case "entries":
        for (const entry of msg.entries) {
          if (entry.seq <= state!.generation) continue; // already applied
          state = replayEntry(state!, entry);
        }
        send({ type: "applied", seq: state!.generation });
        return;
      case "query":
        send({ type: "answer", id: msg.id, result: answer(msg.query) });
        return;
    }
  } catch (error) {
    send({ type: "error", message: (error as Error)?.message ?? String(error) });
  }
};
