import { assertEquals } from "../../tests/helpers/assert.ts";
import { ReducerHarness } from "../../tests/helpers/inventory.ts";
import { parseCommand } from "./commands.ts";
import { fileNeeds } from "./file_needs.ts";

Deno.test("deleting files of an existing block prefetches the block's file list (the reducer edits it)", () => {
  const h = new ReducerHarness();
  h.apply(
    { op: "dataset.upsert", name: "/A/B/C" },
    { op: "block.upsert", dataset: "/A/B/C", block: "b1" },
    { op: "files.add", dataset: "/A/B/C", block: "b1", files: [{ lfn: "/store/a/1", size: 1 }] },
  );
  const blockId = h.state.names.blocks.get(h.state.names.datasets.get("/A/B/C")!)!.get("b1")!;
  const needs = fileNeeds(h.state, [
    parseCommand({ op: "files.delete", dataset: "/A/B/C", block: "b1", lfns: ["/store/a/1"] }),
  ]);
  assertEquals([...needs.blockIds], [blockId]);
  assertEquals([...needs.lfns], ["/store/a/1"]);
});
