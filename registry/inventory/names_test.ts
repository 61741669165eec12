import { assertEquals, assertMatch } from "../../tests/helpers/assert.ts";
import { type NameKind, nameProblem } from "./names.ts";
import { parseCommand } from "./commands.ts";
import { InventoryValidationError } from "./errors.ts";
import { injectionToCommands } from "./injection.ts";

const KINDS: NameKind[] = ["dataset", "block", "lfn", "site", "group", "partition"];

/** Names that break one rule or another, and some that pass, for every kind. */
const NAMES: unknown[] = [
  "/A/B/C",
  "/A/./C",
  "/A/../C",
  "/A/.../C",
  "a#b",
  "a/b",
  ".",
  "..",
  "T2_CH_CERN",
  " AnalysisOps",
  "AnalysisOps",
  "",
  "x".repeat(501),
  "x".repeat(500),
  "/store/x.root",
  "/store//x.root",
  "a\u0000b",
  "a\nb",
  "/S\ud800/B",
  "/Cafe\u0301/Run/RAW",
  "/Caf\u00e9/Run/RAW",
  null,
  42,
  ["/A/B/C"],
  { name: "/A/B/C" },
  new String("/A/B/C"),
];

Deno.test("a name's verdict does not depend on the names checked before it (the last accepted is remembered)", () => {
  const pairs = KINDS.flatMap((kind) => NAMES.map((name) => [kind, name] as const));
  // Each verdict alone: a name of another kind, and an unacceptable name, are checked between any two.
  const alone = new Map<string, string | null>();
  pairs.forEach(([kind, name], i) => {
    nameProblem(kind === "site" ? "block" : "site", `T_${i}`);
    nameProblem(kind, "\u0000");
    alone.set(`${kind} ${i % NAMES.length}`, nameProblem(kind, name));
  });
  // Then in every order of a seeded shuffle, each name given several times in a row and apart.
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let round = 0; round < 20; round++) {
    const order = pairs.map((p, i) => ({ p, i, k: next() })).sort((a, b) => a.k - b.k);
    for (const { p: [kind, name], i } of order) {
      for (let again = 0; again < 1 + (i % 3); again++) {
        assertEquals(
          nameProblem(kind, name),
          alone.get(`${kind} ${i % NAMES.length}`),
          `${kind} ${String(name)}`,
        );
      }
    }
  }
  // A String object equal to a name accepted just before is still not a string.
  assertEquals(nameProblem("dataset", "/A/B/C"), null);
  assertMatch(nameProblem("dataset", new String("/A/B/C")) ?? "", /expected a string/);
});

/** The rule as it was written first: split on "/", no segment "." or "..". */
function splitSegmentsProblem(name: string): boolean {
  return name.split("/").some((s) => s === "." || s === "..");
}

Deno.test("dataset names: every string of '/', '.', 'a' up to 7 characters is judged as by splitting on '/'", () => {
  const alphabet = ["/", ".", "a"];
  let names = [""];
  let checked = 0;
  for (let length = 1; length <= 7; length++) {
    names = names.flatMap((n) => alphabet.map((c) => n + c));
    for (const name of names) {
      const problem = nameProblem("dataset", name);
      assertEquals(problem !== null && /path segments/.test(problem), splitSegmentsProblem(name), name);
      checked++;
    }
  }
  assertEquals(checked, 3279);
});

Deno.test("a command's names are checked field by field, whatever was accepted before", () => {
  const ok = {
    op: "block_replica.upsert" as const,
    dataset: "/A/B/C",
    block: "b1",
    site: "T2_A",
    group: "G",
  };
  assertEquals(parseCommand(ok), ok);
  assertEquals(parseCommand({ ...ok, group: null }), { ...ok, group: null });
  const refused = (raw: Record<string, unknown>) => {
    try {
      parseCommand(raw);
    } catch (e) {
      if (e instanceof InventoryValidationError) return e.message;
      throw e;
    }
    throw new Error("accepted");
  };
  // The dataset's name (just accepted) given as the site, and as the block.
  assertMatch(refused({ ...ok, site: "/A/B/C" }), /field "site": must contain only letters/);
  assertMatch(refused({ ...ok, block: "/A/B/C" }), /field "block": must not contain "#" or "\/"/);
  assertMatch(refused({ ...ok, group: " G" }), /field "group": must not start or end with whitespace/);
  assertMatch(refused({ ...ok, dataset: "/A/../C" }), /field "dataset": must not contain "\." or "\.\."/);
  assertMatch(refused({ ...ok, site: 7 }), /field "site": expected a string, got number 7/);
  assertEquals(parseCommand(ok), ok);
});

Deno.test("an injection's block replicas: errors name the replica and field, as before", () => {
  const doc = (blockreplicas: unknown[]) => ({
    datasetreplica: [{ dataset: "/A/B/C", site: "T2_A", blockreplicas }],
  });
  const field = (d: unknown) => {
    try {
      injectionToCommands(d);
    } catch (e) {
      if (e instanceof InventoryValidationError) return `${e.field}: ${e.reason}`;
      throw e;
    }
    return null;
  };
  assertEquals(field(doc([{ block: "b1" }, { block: "b2" }])), null);
  assertEquals(
    field(doc([{ block: "b1" }, { block: "b2", extra: 1 }])),
    "datasetreplica[0].blockreplicas[1].extra: unknown field",
  );
  assertEquals(
    field(doc([{ block: "b1" }, 3])),
    "datasetreplica[0].blockreplicas[1]: expected an object, got number 3",
  );
  assertEquals(
    field(doc([{ block: "/X/Y/Z#b1" }])),
    'datasetreplica[0].blockreplicas[0].block: block "/X/Y/Z#b1" does not belong to dataset "/A/B/C"',
  );
  assertEquals(
    field(doc([{ block: "b1" }, { block: "b/2" }])),
    'datasetreplica[0].blockreplicas[1].block: must not contain "#" or "/", got "b/2"',
  );
  assertEquals(field(doc([{}])), "datasetreplica[0].blockreplicas[0].block: is required");
  assertEquals(
    field(doc([{ block: "b1", group: 5 }])),
    "datasetreplica[0].blockreplicas[0].group: expected a string, got number 5",
  );
  assertEquals(
    injectionToCommands(doc([{ block: "/A/B/C#b1", group: "G", is_custodial: true }])),
    [
      { op: "dataset_replica.upsert", dataset: "/A/B/C", site: "T2_A" },
      {
        op: "block_replica.upsert",
        dataset: "/A/B/C",
        block: "b1",
        site: "T2_A",
        group: "G",
        is_custodial: true,
      },
    ],
  );
});
