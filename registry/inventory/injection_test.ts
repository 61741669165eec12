import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { InventoryValidationError } from "./errors.ts";
import { injectionToCommands, invalidationToCommands } from "./injection.ts";
import { Snapshot } from "./snapshot.ts";

const INJECTION = {
  site: [{
    name: "T2_US_MIT",
    host: "se.mit.edu",
    storage_type: "disk",
    backend: "root://se.mit.edu//store",
    status: "ready",
  }],
  group: [{ name: "AnalysisOps", olevel: "Dataset" }],
  dataset: [{
    name: "/Prim/Proc-v1/AOD",
    status: "valid",
    data_type: "production",
    blocks: [
      {
        name: "/Prim/Proc-v1/AOD#b1",
        files: [{ name: "/store/b1/f1.root", size: 100, adler32: "0000abcd" }],
      },
      {
        name: "b2",
        files: [{ name: "/store/b2/f1.root", size: 50 }, { name: "/store/b2/f2.root", size: 50 }],
      },
    ],
  }],
  datasetreplica: [{
    dataset: "/Prim/Proc-v1/AOD",
    site: "T2_US_MIT",
    group: "AnalysisOps",
    blockreplicas: [{ block: "b1" }, { block: "b2", files: ["/store/b2/f1.root"] }],
  }],
};

Deno.test("the original injection JSON becomes ordered commands that build the inventory", () => {
  const commands = injectionToCommands(INJECTION);
  assertEquals(commands.map((c) => c.op), [
    "site.upsert",
    "group.upsert",
    "dataset.upsert",
    "block.upsert",
    "files.add",
    "block.upsert",
    "files.add",
    "dataset_replica.upsert",
    "block_replica.upsert",
    "block_replica.upsert",
  ]);
  const h = new ReducerHarness();
  h.batch([{ commands, atomic: true }]);
  const snap = new Snapshot(h.state);
  const d = snap.dataset("/Prim/Proc-v1/AOD")!;
  assertEquals([d.size, d.numFiles], [200, 3]);
  const dr = snap.replica(d.id, snap.site("T2_US_MIT")!.id)!;
  assertEquals(dr.blockReplicas.map((br) => [br.size, br.fileIds === null]), [[100, true], [50, false]]);
  assertEquals(h.files.byLfn.get("/store/b1/f1.root")!.checksum, { adler32: "0000abcd" });
});

Deno.test("injection JSON errors carry the path of the offending value", () => {
  const cases: [unknown, string | null][] = [
    [[], null],
    [{ datasets: [] }, "datasets"],
    [{ dataset: {} }, "dataset"],
    [
      { dataset: [{ name: "/a/b/c", blocks: [{ name: "b", files: [{ name: "/f", size: "big" }] }] }] },
      "dataset[0].blocks[0].files[0].size",
    ],
    [{ dataset: [{ name: "/a/b/c", blocks: [{ name: "/x/y/z#b" }] }] }, "dataset[0].blocks[0].name"],
    [{ dataset: [{ name: "/a/b/c", colour: 1 }] }, "dataset[0].colour"],
    [{ site: [{ name: "../../etc" }] }, "site[0].name"],
    [
      { datasetreplica: [{ dataset: "/a/b/c", site: "S", blockreplicas: [{ block: "b", files: "nope" }] }] },
      "datasetreplica[0].blockreplicas[0].files",
    ],
  ];
  for (const [input, field] of cases) {
    const e = assertThrows(() => injectionToCommands(input), InventoryValidationError);
    assertEquals(e.field, field, JSON.stringify(input));
  }
});

Deno.test("the invalidation JSON deletes replicas before datasets", () => {
  const commands = invalidationToCommands({
    dataset: [{ name: "/a/b/c" }, {
      name: "/d/e/f",
      blocks: [{ name: "b1" }, { name: "b2", files: [{ name: "/x" }] }],
    }],
    datasetreplica: [{ dataset: "/a/b/c", site: "S" }],
    site: [{ name: "S" }],
  });
  assertEquals(commands.map((c) => c.op), [
    "dataset_replica.delete",
    "dataset.delete",
    "block.delete",
    "files.delete",
    "site.delete",
  ]);
});
