import { assertEquals, assertNotEquals } from "../../tests/helpers/assert.ts";
import { basicFederation, ReducerHarness } from "../../tests/helpers/inventory.ts";
import { InventoryLoader } from "./bulk_loader.ts";
import { inventoryDigest } from "./digest.ts";
import { type PartitionDefinition, PartitionTable } from "./partitions.ts";
import { NULL_GROUP_ID } from "./records.ts";
import type { InventoryState } from "./state.ts";
import { Snapshot } from "./snapshot.ts";
import { feedRow, type RowSink, type StateRow, stateRows } from "./state_rows.ts";

const PARTITIONS: readonly PartitionDefinition[] = [
  { name: "Default", condition: (c) => c.blockReplica.groupId !== NULL_GROUP_ID },
  { name: "Tape", condition: (c) => c.site.storageType === "mss" },
  { name: "Both", subpartitions: ["Default", "Tape"] },
];

/** Loads `state`'s rows as a reader replica does: a loader over the same partition ids. */
function reload(state: InventoryState): InventoryState {
  const ids = new Map([...state.partitions.byName].map(([name, p]) => [name, p.id]));
  const loader = new InventoryLoader(new PartitionTable(state.partitions.definitions, ids));
  for (const row of stateRows(state)) feedRow(loader, row);
  return loader.finish(state.generation, state.counters);
}

function richInventory(): ReducerHarness {
  const h = new ReducerHarness(PARTITIONS);
  basicFederation(h);
  h.apply(
    { op: "quota.set", site: "T1_TAPE", partition: "Tape", quota: 5000 },
    { op: "group.upsert", name: "DataOps", olevel: "Block" },
    { op: "dataset.upsert", name: "/A/B/RAW", status: "valid" },
    { op: "dataset.upsert", name: "/C/D/AOD" },
  );
  for (const [ds, blocks] of [["/A/B/RAW", 3], ["/C/D/AOD", 2]] as const) {
    for (let b = 0; b < blocks; b++) {
      h.apply(
        { op: "block.upsert", dataset: ds, block: `b${b}` },
        {
          op: "files.add",
          dataset: ds,
          block: `b${b}`,
          files: [{ lfn: `${ds}/b${b}/f0.root`, size: 10 + b }, { lfn: `${ds}/b${b}/f1.root`, size: 5 }],
        },
      );
    }
  }
  h.apply(
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T2_A", group: "AnalysisOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A" },
    {
      op: "block_replica.upsert",
      dataset: "/A/B/RAW",
      block: "b2",
      site: "T2_A",
      files: ["/A/B/RAW/b2/f1.root"],
    },
    { op: "dataset_replica.upsert", dataset: "/A/B/RAW", site: "T1_TAPE", group: "DataOps" },
    { op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b1", site: "T1_TAPE", group: "DataOps" },
    { op: "dataset_replica.upsert", dataset: "/C/D/AOD", site: "T2_B" },
    { op: "block_replica.upsert", dataset: "/C/D/AOD", block: "b1", site: "T2_B" },
  );
  // Something deleted and a site changed after the fact: the rows are those of the current state.
  h.apply(
    { op: "block.delete", dataset: "/C/D/AOD", block: "b0" },
    { op: "site.upsert", name: "T2_B", storage_type: "disk", status: "waitroom" },
  );
  return h;
}

Deno.test("the rows of a state load back into the same state (every table, partitions and ledger)", () => {
  const h = richInventory();
  const reloaded = reload(h.state);
  assertEquals(inventoryDigest(reloaded), inventoryDigest(h.state));
  assertEquals(reloaded.generation, h.state.generation);
  assertEquals(reloaded.counters, h.state.counters);
  assertEquals(reloaded.counts, h.state.counts);
});

Deno.test("the rows are those of the state they were taken from, whatever is applied after", () => {
  const h = richInventory();
  const taken = h.state;
  const rows = stateRows(taken);
  const first = rows.next(); // started before the writes below
  h.apply(
    { op: "dataset.delete", name: "/A/B/RAW" },
    { op: "site.upsert", name: "T2_C", storage_type: "disk" },
  );
  assertNotEquals(inventoryDigest(h.state), inventoryDigest(taken));
  const ids = new Map([...taken.partitions.byName].map(([name, p]) => [name, p.id]));
  const loader: RowSink = new InventoryLoader(new PartitionTable(taken.partitions.definitions, ids));
  for (const row of [first.value as StateRow, ...rows]) feedRow(loader, row);
  assertEquals(
    inventoryDigest((loader as InventoryLoader).finish(taken.generation, taken.counters)),
    inventoryDigest(taken),
  );
});

Deno.test("an empty inventory has no rows (the null group is the loader's own)", () => {
  const h = new ReducerHarness();
  assertEquals([...stateRows(h.state)], []);
  assertEquals(inventoryDigest(reload(h.state)), inventoryDigest(h.state));
});

/** Every dataset replica's column summaries against a scan of its rows; returns how many. */
function assertSummariesAreScans(state: InventoryState): number {
  const snap = new Snapshot(state);
  let checked = 0;
  for (const d of snap.datasets()) {
    for (const dr of snap.replicasOf(d.id)) {
      const rows = [...dr.columns];
      assertEquals(
        [
          dr.columns.newestUpdate,
          dr.columns.exactTotalSize,
          dr.columns.partitionsOfAll,
          dr.columns.partitionsOfAny,
        ],
        [
          rows.reduce((m, r) => Math.max(m, r.lastUpdate), Number.NEGATIVE_INFINITY),
          rows.reduce((s, r) => s + r.size, 0),
          rows.reduce((m, r) => m & r.partitions, 0x7fffffff),
          rows.reduce((m, r) => m | r.partitions, 0),
        ],
        `${d.name} at site ${dr.siteId}`,
      );
      checked++;
    }
  }
  return checked;
}

Deno.test("column summaries (newest update, size, partitions) follow writes, deletions and a load", () => {
  const h = richInventory();
  assertEquals(assertSummariesAreScans(h.state), 3);
  assertEquals(assertSummariesAreScans(reload(h.state)), 3);
  const newestAtT2A = () => {
    const snap = new Snapshot(h.state);
    const site = snap.site("T2_A")!;
    return snap.replica(snap.dataset("/A/B/RAW")!.id, site.id)!.columns.newestUpdate;
  };
  // A newer block replica, then its deletion: the newest goes up, then back down.
  const before = newestAtT2A();
  h.apply({ op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b1", site: "T2_A", last_update: 9e9 });
  assertEquals(newestAtT2A(), 9e9);
  assertEquals(assertSummariesAreScans(reload(h.state)), 3);
  h.apply({ op: "block_replica.delete", dataset: "/A/B/RAW", block: "b1", site: "T2_A" });
  assertEquals(newestAtT2A(), before);
  // An owner change moves a block replica out of a partition: the bits follow.
  h.apply({ op: "block_replica.upsert", dataset: "/A/B/RAW", block: "b0", site: "T2_A", group: null });
  assertSummariesAreScans(h.state);
  assertSummariesAreScans(reload(h.state));
});
