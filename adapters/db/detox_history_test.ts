import { assertEquals } from "../../tests/helpers/assert.ts";
import { dbTest } from "../../tests/helpers/db.ts";
import { SqlDetoxHistory } from "./detox_history.ts";
import type { DecisionRow } from "./detox_history_port.ts";

dbTest(
  "a cycle's many decisions are written in several COPY chunks and read back whole, in order",
  async ({ db }) => {
    const history = new SqlDetoxHistory(db);
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
    // More rows than the first chunk, with the characters COPY's text format escapes.
    const decisions: DecisionRow[] = Array.from({ length: 4_321 }, (_, i) => ({
      site: `T2_S${i % 7}`,
      dataset: `/D${String(i).padStart(5, "0")}/tab\there\\back\nline/AOD`,
      decision: (["delete", "keep", "protect"] as const)[i % 3]!,
      line: 1 + (i % 5),
      size: i * 1e9,
      blocks: [`b${i}`, "é#\r"],
    }));
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
    const back = await history.decisions(id, {});
    const order = (a: DecisionRow, b: DecisionRow) =>
      a.site < b.site ? -1 : a.site > b.site ? 1 : a.dataset < b.dataset ? -1 : a.dataset > b.dataset ? 1 : 0;
    assertEquals(back, [...decisions].sort(order));
  },
);
