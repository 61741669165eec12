import { assertEquals, assertNotEquals } from "../../tests/helpers/assert.ts";
import { basicFederation, ReducerHarness } from "../../tests/helpers/inventory.ts";
import { InventoryLoader } from "./bulk_loader.ts";
import { inventoryDigest } from "./digest.ts";
import { type PartitionDefinition, PartitionTable } from "./partitions.ts";
import { NULL_GROUP_ID } from "./records.ts";
import type { InventoryState } from "./state.ts";
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
