import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { parseCommand } from "./commands.ts";
import { InventoryValidationError } from "./errors.ts";

function rejects(raw: unknown, field: string | null, includes?: string) {
  const e = assertThrows(() => parseCommand(raw), InventoryValidationError, includes);
  assertEquals(e.field, field, `field for ${JSON.stringify(raw)}`);
}

Deno.test("garbage and hostile commands are refused naming the field", () => {
  rejects(null, null, "expected an object");
  rejects([], null, "expected an object");
  rejects("dataset.upsert", null);
  rejects({}, "op");
  rejects({ op: "dataset.explode", name: "/a/b/c" }, "op");
  rejects({ op: "dataset.upsert" }, "name", "is required");
  rejects({ op: "dataset.upsert", name: "/a/b/c", colour: "red" }, "colour", "unknown field");
  rejects({ op: "dataset.upsert", name: "/a/b/c", v: 2 }, "v", "unsupported command version");
  rejects({ op: "dataset.upsert", name: 42 }, "name", "expected a string");
  rejects({ op: "dataset.upsert", name: "" }, "name", "must not be empty");
  rejects({ op: "dataset.upsert", name: "/a/../etc/passwd" }, "name", '".."');
  rejects({ op: "dataset.upsert", name: "/a/b\u0000c" }, "name", "control characters");
  rejects({ op: "dataset.upsert", name: "/a/b\nc" }, "name", "control characters");
  rejects({ op: "dataset.upsert", name: "/" + "x".repeat(600) }, "name", "at most 500");
  rejects({ op: "dataset.upsert", name: "/a/b#c" }, "name", '"#"');
  rejects({ op: "dataset.upsert", name: "/a/b/c", status: "VALIDISH" }, "status", "expected one of");
  rejects({ op: "dataset.upsert", name: "/a/b/c", is_open: "yes" }, "is_open", "true or false");
  rejects({ op: "dataset.upsert", name: "/a/b/c", last_update: -5 }, "last_update");
  rejects({ op: "dataset.upsert", name: "/a/b/c", last_update: 1.5 }, "last_update");
  rejects({ op: "block.upsert", dataset: "/a/b/c", block: "x/y" }, "block", '"/"');
  rejects({ op: "block.upsert", dataset: "/a/b/c", block: ".." }, "block");
  rejects({ op: "site.upsert", name: "T2_CH/../../etc" }, "name", "letters, digits");
  rejects({ op: "site.upsert", name: "T2 X" }, "name");
  rejects({ op: "site.upsert", name: "T2_X", storage_type: "floppy" }, "storage_type");
  rejects({ op: "site.upsert", name: "T2_X", host: "a\u0007b" }, "host", "control characters");
  rejects(
    { op: "site.upsert", name: "T2_X", filename_mappings: { gfal2: [[["(", "x"]]] } },
    "filename_mappings.gfal2[0][0]",
    "invalid regular expression",
  );
  rejects(
    { op: "site.upsert", name: "T2_X", filename_mappings: { gfal2: [[]] } },
    "filename_mappings.gfal2[0]",
  );
  rejects(
    { op: "site.upsert", name: "T2_X", filename_mappings: { "Bad Proto": [] } },
    "filename_mappings.Bad Proto",
  );
  rejects({ op: "quota.set", site: "T2_X", partition: "P", quota: "1TB" }, "quota", "integer");
  rejects({ op: "quota.set", site: "T2_X", partition: "P", quota: 1e300 }, "quota");
  rejects({ op: "files.add", dataset: "/a/b/c", block: "b", files: {} }, "files", "array");
  rejects(
    { op: "files.add", dataset: "/a/b/c", block: "b", files: [{ lfn: "relative/path", size: 1 }] },
    "files[0].lfn",
    "absolute",
  );
  rejects(
    { op: "files.add", dataset: "/a/b/c", block: "b", files: [{ lfn: "/x/../../root", size: 1 }] },
    "files[0].lfn",
    '".."',
  );
  rejects(
    { op: "files.add", dataset: "/a/b/c", block: "b", files: [{ lfn: "/x", size: -1 }] },
    "files[0].size",
  );
  rejects({
    op: "files.add",
    dataset: "/a/b/c",
    block: "b",
    files: [{ lfn: "/x", size: 1, checksum: { adler32: "xyz!" } }],
  }, "files[0].checksum");
  rejects(
    { op: "files.add", dataset: "/a/b/c", block: "b", files: [{ lfn: "/x", size: 1, extra: 1 }] },
    "files[0].extra",
    "unknown field",
  );
  rejects(
    { op: "block_replica.upsert", dataset: "/a/b/c", block: "b", site: "S", files: ["/ok", 7] },
    "files[1]",
  );
  rejects({ op: "dataset_replica.upsert", dataset: "/a/b/c", site: "S", growing: 1 }, "growing");
});

Deno.test("valid commands come back typed, with checksums normalised", () => {
  assertEquals(
    parseCommand({
      op: "files.add",
      v: 1,
      dataset: "/a/b/c",
      block: "b",
      files: [{ lfn: "/store/x.root", size: 0, checksum: { adler32: "0A1B2C3D" }, site: "T2_X" }],
    }),
    {
      op: "files.add",
      dataset: "/a/b/c",
      block: "b",
      files: [{ lfn: "/store/x.root", size: 0, checksum: { adler32: "0a1b2c3d" }, site: "T2_X" }],
    },
  );
  assertEquals(parseCommand({ op: "group.upsert", name: "IB RelVal" }), {
    op: "group.upsert",
    name: "IB RelVal",
  });
  assertEquals(parseCommand({ op: "quota.set", site: "S", partition: "P", quota: -1 }).op, "quota.set");
});

Deno.test("quotas beyond 2^53 bytes (tape sites hold tens of PB) are accepted up to the database range", () => {
  const tape = parseCommand({ op: "quota.set", site: "T1_X_MSS", partition: "Tape", quota: 2e16 });
  assertEquals(tape, { op: "quota.set", site: "T1_X_MSS", partition: "Tape", quota: 2e16 });
  rejects({ op: "quota.set", site: "S", partition: "P", quota: 1e19 }, "quota", "at most");
  rejects({ op: "quota.set", site: "S", partition: "P", quota: 1.5 }, "quota", "integer");
  rejects({ op: "quota.set", site: "S", partition: "P", quota: Number.NaN }, "quota", "integer");
});
