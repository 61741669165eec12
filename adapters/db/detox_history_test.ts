import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { SeededRng } from "../../actors/runtime/clock.ts";
import { compileGlob, globToLike } from "../../registry/inventory/glob.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { SqlDetoxHistory } from "./detox_history.ts";
import type { DecisionRow } from "./detox_history_port.ts";

/** A finished dry-run cycle with these decisions. */
async function cycleWith(history: SqlDetoxHistory, decisions: DecisionRow[]): Promise<number> {
  const id = await history.startCycle({
    partition: "Default",
    mode: "dry-run",
    policyHash: "h",
    policyText: "Partition Default",
    generation: 1,
    startedMs: 0,
    timeShiftDays: 0,
    comment: null,
  });
  await history.finishCycle(id, {
    status: "done",
    endedMs: 1,
    iterations: 1,
    evaluations: decisions.length,
    deletedBytes: 0,
    committedGeneration: null,
    unmatchedLines: [],
    decisions,
    sites: [],
  });
  return id;
}

dbTest(
  "a cycle's many decisions are written in several COPY chunks and read back whole, in order",
  async ({ db }) => {
    const history = new SqlDetoxHistory(db);
    // More rows than the first chunk, with the characters COPY's text format escapes.
    const decisions: DecisionRow[] = Array.from({ length: 4_321 }, (_, i) => ({
      site: `T2_S${i % 7}`,
      dataset: `/D${String(i).padStart(5, "0")}/tab\there\\back\nline/AOD`,
      decision: (["delete", "keep", "protect"] as const)[i % 3]!,
      line: 1 + (i % 5),
      size: i * 1e9,
      blocks: [`b${i}`, "é#\r"],
    }));
    const id = await cycleWith(history, decisions);
    const back = await history.decisions(id, {});
    const order = (a: DecisionRow, b: DecisionRow) =>
      a.site < b.site ? -1 : a.site > b.site ? 1 : a.dataset < b.dataset ? -1 : a.dataset > b.dataset ? 1 : 0;
    assertEquals(back, [...decisions].sort(order));
  },
);

dbTest(
  "datasetLike narrows to a superset of what a glob matches, exactly the matches when it has no set",
  async ({ db }) => {
    const history = new SqlDetoxHistory(db);
    // Names with LIKE's own characters (%, _, \) and the glob's, so that escaping is exercised.
    const letters = ["a", "b", "/", "%", "_", "\\", "[", "]", "!", "é", "😀"];
    const rng = new SeededRng(7);
    const word = (n: number) => Array.from({ length: n }, () => letters[rng.int(letters.length)]!).join("");
    const names = [...new Set(Array.from({ length: 400 }, () => word(1 + rng.int(5))))];
    const decisions: DecisionRow[] = names.map((dataset, i) => ({
      site: "T2_A",
      dataset,
      decision: "keep",
      line: 1,
      size: i,
      blocks: [],
    }));
    const id = await cycleWith(history, decisions);
    const patterns = [
      ...Array.from({ length: 60 }, () => word(rng.int(4)) + "*" + word(rng.int(3))),
      ...Array.from({ length: 20 }, () => word(1 + rng.int(3)).replace("a", "?")),
      "%",
      "_",
      "\\*",
      "*[ab]*",
      "[!a]*",
    ];
    let matched = 0;
    for (const pattern of patterns) {
      const glob = compileGlob(pattern);
      const expected = names.filter((n) => glob.test(n)).sort();
      const got = (await history.decisions(id, { datasetLike: [globToLike(pattern)] })).map((r) => r.dataset);
      const narrowed = got.filter((n) => glob.test(n)).sort();
      assertEquals(narrowed, expected, `pattern ${JSON.stringify(pattern)}`);
      if (!pattern.includes("[")) assertEquals(got.sort(), expected, `exact for ${JSON.stringify(pattern)}`);
      matched += expected.length;
    }
    assert(matched > 100, `the patterns should match something, got ${matched}`);
    // Any of several patterns.
    const both = await history.decisions(id, { datasetLike: [globToLike("a*"), globToLike("b*")] });
    assertEquals(
      both.map((r) => r.dataset).sort(),
      names.filter((n) => n.startsWith("a") || n.startsWith("b")).sort(),
    );
  },
);
