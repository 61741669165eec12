/// <reference lib="deno.worker" />
/**
 * A reader replica in its own isolate: it is built from the rows of the
 * writer's published snapshot (streamed by the main thread in slices while the
 * writer carries on), then applies every journal entry committed after that
 * snapshot's generation with the same reducer as the writer
 * (docs/parallel_readers.md), so it serves reads and decides Detox cycles
 * without ever copying whole snapshots across threads, and without stalling
 * the main isolate.
 */
import {
  DEFAULT_PARTITIONS,
  emptyState,
  feedRow,
  inventoryDigest,
  InventoryLoader,
  type InventoryState,
  type PartitionDefinition,
  PartitionTable,
  replayEntry,
  Snapshot,
} from "../../registry/inventory/mod.ts";
import { answerHeavyRead } from "../../registry/inventory/reads/heavy_read.ts";
import { slicedPace } from "../../registry/inventory/reads/pace.ts";
import { parsePartitions } from "../../policies/partitions.ts";
import { parseEnforcerRules } from "../../policies/enforcer_rules.ts";
import { CycleBudget } from "../../policies/cycle_budget.ts";
import { decideDetoxCycle } from "../../policies/detox/detox_decision.ts";
import { decideDealerCycle } from "../../policies/dealer/dealer_decision.ts";
import { SeededRng, yieldToEventLoop } from "../runtime/clock.ts";
import type { FromReplica, ReplicaQuery, ToReplica } from "./reader_replica_protocol.ts";

let definitions: readonly PartitionDefinition[] = DEFAULT_PARTITIONS;
let state: InventoryState | null = null;
let loader: InventoryLoader | null = null;
/** Decision rows waiting to be taken, page by page, by the main thread. */
const stashed = new Map<number, unknown[]>();
let nextKey = 1;

function send(msg: FromReplica): void {
  self.postMessage(msg);
}

async function answer(query: ReplicaQuery): Promise<unknown> {
  // A query keeps the snapshot it started on; entries applied meanwhile do not change it.
  const snap = new Snapshot(state!);
  switch (query.kind) {
    case "generation":
      return snap.generation;
    case "digest":
      return inventoryDigest(snap.state);
    case "dataset":
      return snap.dataset(query.name) ?? null;
    case "read":
      // Sliced, so that journal entries and a Detox or Dealer decision interleave with a long read.
      return await answerHeavyRead(
        snap,
        query.read,
        slicedPace({ budgetMs: query.budgetMs, now: Date.now, yieldNow: yieldToEventLoop }),
      );
    case "detox": {
      const e = query.enforcer;
      const budget = new CycleBudget({ budgetMs: query.budgetMs, now: Date.now, yieldNow: yieldToEventLoop });
      const decision = await decideDetoxCycle(
        snap,
        query.run,
        query.inputs,
        e ? parseEnforcerRules(e.text, e.file, e.nowMs) : null,
        budget,
      );
      if (decision.kind !== "decided") return decision;
      // One row per replica evaluated: posted in pages, so that the main thread never decodes them in one go.
      const key = nextKey++;
      stashed.set(key, [...decision.decisions]);
      return { ...decision, decisions: [], decisionsKey: key };
    }
    case "dealer": {
      const e = query.enforcer;
      const budget = new CycleBudget({ budgetMs: query.budgetMs, now: Date.now, yieldNow: yieldToEventLoop });
      const decision = await decideDealerCycle(
        snap,
        query.config,
        query.inputs,
        e ? parseEnforcerRules(e.text, e.file, e.nowMs) : null,
        new SeededRng(query.seed),
        budget,
      );
      if (decision.kind !== "decided") return decision;
      // One row per proposal: posted in pages, like Detox's.
      const key = nextKey++;
      stashed.set(key, [...decision.decisions]);
      return { ...decision, decisions: [], decisionsKey: key };
    }
    case "decision_rows": {
      const rows = stashed.get(query.key) ?? [];
      const page = rows.splice(0, query.limit);
      if (rows.length === 0) stashed.delete(query.key);
      return page;
    }
  }
}

self.onmessage = async (event: MessageEvent<ToReplica>) => {
  const msg = event.data;
  try {
    switch (msg.type) {
      case "init": {
        if (msg.partitionsModule) definitions = (await import(msg.partitionsModule)).partitions;
        else if (msg.partitions) {
          definitions = parsePartitions(
            msg.partitions.map(([n, t]) => `${n}: ${t}`).join("\n"),
            "partitions",
          );
        }
        state = emptyState(new PartitionTable(definitions));
        send({ type: "ready" });
        return;
      }
      case "load_begin":
        loader = new InventoryLoader(new PartitionTable(definitions, new Map(msg.partitionIds)));
        return;
      case "rows":
        for (const row of msg.rows) feedRow(loader!, row);
        send({ type: "rows_loaded" });
        return;
      case "load_end":
        state = loader!.finish(msg.generation, msg.counters);
        loader = null;
        send({ type: "applied", seq: state.generation });
        return;
      case "entries":
        for (const entry of msg.entries) {
          if (entry.seq <= state!.generation) continue; // already applied
          state = replayEntry(state!, entry);
        }
        send({ type: "applied", seq: state!.generation, atMs: performance.timeOrigin + performance.now() });
        return;
      case "query": {
        const id = msg.id;
        try {
          send({ type: "answer", id, result: await answer(msg.query) });
        } catch (error) {
          send({ type: "failed", id, message: (error as Error)?.message ?? String(error) });
        }
        return;
      }
    }
  } catch (error) {
    send({ type: "error", message: (error as Error)?.message ?? String(error) });
  }
};
