import { assertEquals } from "../tests/helpers/assert.ts";
import { consistencyHours } from "./consistency_faults.ts";

Deno.test("demo consistency episode: only in a run long enough to find, confirm and repair the faults", () => {
  // A quarter-day run (the demo test's) used to lose files on purpose and end before repairing them.
  assertEquals(consistencyHours(6), null);
  assertEquals(consistencyHours(18), null);
  assertEquals(consistencyHours(24), { faults: 8, checks: [9, 14, 19] });
  assertEquals(consistencyHours(72), { faults: 25, checks: [26, 31, 36] });
});
