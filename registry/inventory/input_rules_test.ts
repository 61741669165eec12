import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/helpers/assert.ts";
import { basicFederation, ReducerHarness } from "../../tests/helpers/inventory.ts";
import { parseCommand } from "./commands.ts";
import { InventoryValidationError } from "./errors.ts";
import { injectionToCommands } from "./injection.ts";
import { checksumProblem, MAX_TOTAL_BYTES } from "./input_rules.ts";
import { nameProblem } from "./names.ts";
import { sitePathProblem } from "./site_path.ts";
import { Snapshot } from "./snapshot.ts";

function refusal(raw: Record<string, unknown>): InventoryValidationError {
  return assertThrows(() => parseCommand(raw), InventoryValidationError);
}

Deno.test("names must be well-formed Unicode: a lone surrogate is refused in every kind of name", () => {
  for (const kind of ["dataset", "block", "lfn", "site", "group", "partition"] as const) {
    const name = kind === "lfn" || kind === "dataset" ? "/S\ud800/B/C" : "S\udc00x";
    assertMatch(nameProblem(kind, name) ?? "", /well-formed Unicode/, kind);
  }
  assertMatch(
    refusal({ op: "dataset.upsert", name: "/S\ud800/B/C" }).message,
    /field "name": must be well-formed/,
  );
  assertMatch(
    refusal({ op: "site.upsert", name: "T2_A", host: "se\udfff.org" }).message,
    /field "host": must be well-formed/,
  );
});

Deno.test("names must be NFC: a decomposed name is refused, not silently normalized", () => {
  const nfd = "/Cafe\u0301/Run/RAW"; // e + combining acute
  const nfc = nfd.normalize("NFC");
  assertMatch(nameProblem("dataset", nfd) ?? "", /normalization form C/);
  assertEquals(nameProblem("dataset", nfc), null);
  assertEquals(nameProblem("lfn", "/store/caf\u00e9/x.root"), null, "non-ASCII NFC names are fine");
});

Deno.test("an LFN follows the storage's path rule: empty, '.', '..' segments and trailing slashes are refused", () => {
  for (
    const lfn of [
      "/store//x.root",
      "/store/x.root/",
      "/store/./x.root",
      "/store/../x.root",
      "store/x.root",
      "//",
    ]
  ) {
    assert(nameProblem("lfn", lfn) !== null, lfn);
    assert(sitePathProblem(lfn) !== null, lfn);
  }
  assertEquals(sitePathProblem("/store/data/x.root"), null);
  assertEquals(sitePathProblem("/"), null);
  assertMatch(sitePathProblem("/a/\u0000b") ?? "", /control characters/);
  assertMatch(sitePathProblem("/a" + "/b".repeat(3000)) ?? "", /at most 4096/);
  const doc = {
    dataset: [{ name: "/A/B/C", blocks: [{ name: "b1", files: [{ name: "/store//x.root", size: 1 }] }] }],
  };
  const e = assertThrows(() => injectionToCommands(doc), InventoryValidationError);
  assertEquals(e.field, "dataset[0].blocks[0].files[0].lfn");
});

Deno.test("checksums are validated by kind: Adler-32 is exactly eight hex digits", () => {
  assertEquals(checksumProblem("adler32", "0000abcd"), null);
  assertEquals(checksumProblem("md5", "d41d8cd98f00b204e9800998ecf8427e"), null);
  assertMatch(checksumProblem("adler32", "0000abcde") ?? "", /exactly 8 hex digits/);
  assertMatch(checksumProblem("adler32", "abcd") ?? "", /exactly 8 hex digits/);
  assertMatch(checksumProblem("adler32", "0000abcg") ?? "", /exactly 8 hex digits/);
  assertMatch(checksumProblem("md5", "0000abcd") ?? "", /exactly 32 hex digits/);
  assertMatch(checksumProblem("rot13", "0000abcd") ?? "", /unknown checksum algorithm/);
  assertMatch(checksumProblem("constructor", "0000abcd") ?? "", /unknown checksum algorithm/);
  assertMatch(checksumProblem("adler32", 12345678) ?? "", /exactly 8 hex digits, got number/);
  const doc = {
    dataset: [{
      name: "/A/B/C",
      blocks: [{ name: "b1", files: [{ name: "/store/x.root", size: 1, adler32: "0000abcde" }] }],
    }],
  };
  const e = assertThrows(() => injectionToCommands(doc), InventoryValidationError);
  assertEquals(e.field, "dataset[0].blocks[0].files[0].checksum");
});

Deno.test("a block whose files add up beyond 2^53-1 bytes is refused before it is acknowledged", () => {
  // The reported poison: one block of 1,100 files of 2^53-1 bytes (the sum overflows int8).
  const files = Array.from(
    { length: 1100 },
    (_, i) => ({ name: `/store/p/f${i}.root`, size: MAX_TOTAL_BYTES }),
  );
  const doc = { dataset: [{ name: "/P/Q/R", blocks: [{ name: "b1", files }] }] };
  const e = assertThrows(() => injectionToCommands(doc), InventoryValidationError);
  assertEquals(e.field, "dataset[0].blocks[0].files");
  assertMatch(e.reason, /add up to .* more than a block may hold/);
  // Exactly at the limit is fine.
  const one = { dataset: [{ name: "/P/Q/R", blocks: [{ name: "b1", files: [files[0]] }] }] };
  assertEquals(injectionToCommands(one).length, 3);
});

Deno.test("adding files to a block or dataset already near the limit is rejected by the reducer, changing nothing", () => {
  const h = new ReducerHarness();
  basicFederation(h);
  h.apply(
    { op: "dataset.upsert", name: "/P/Q/R" },
    { op: "block.upsert", dataset: "/P/Q/R", block: "b1" },
    { op: "block.upsert", dataset: "/P/Q/R", block: "b2" },
    {
      op: "files.add",
      dataset: "/P/Q/R",
      block: "b1",
      files: [{ lfn: "/store/a.root", size: MAX_TOTAL_BYTES - 1 }],
    },
  );
  const sizes = () => {
    const snap = new Snapshot(h.state);
    const d = snap.dataset("/P/Q/R")!;
    return [d.size, d.numFiles, ...snap.blocksOf(d).map((b) => b.size)];
  };
  const before = sizes();
  const sameBlock = h.try({
    op: "files.add",
    dataset: "/P/Q/R",
    block: "b1",
    files: [{ lfn: "/store/b.root", size: 2 }],
  });
  assertEquals(sameBlock.status, "rejected");
  assert(sameBlock.status === "rejected");
  assertMatch(sameBlock.error.reason, /the block would hold/);
  const otherBlock = h.try({
    op: "files.add",
    dataset: "/P/Q/R",
    block: "b2",
    files: [{ lfn: "/store/c.root", size: 2 }],
  });
  assert(otherBlock.status === "rejected");
  assertMatch(otherBlock.error.reason, /the dataset would hold/);
  assertEquals(sizes(), before);
  assertEquals(before, [MAX_TOTAL_BYTES - 1, 1, MAX_TOTAL_BYTES - 1, 0]);
  const fits = h.try({
    op: "files.add",
    dataset: "/P/Q/R",
    block: "b2",
    files: [{ lfn: "/store/c.root", size: 1 }],
  });
  assertEquals(fits.status, "applied");
});
