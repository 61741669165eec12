import { assertEquals } from "../../tests/helpers/assert.ts";
import { currentRow, heldBySite, heldDetailRow } from "./fileops_compat.ts";

Deno.test("the original monitor's fields beside ours: current transfers, held details, held per site", () => {
  assertEquals(currentRow({ id: 1, source: "T1_A", site: "T2_B", lfn: "/store/x", size: 5, status: "new" }), {
    id: 1,
    source: "T1_A",
    site: "T2_B",
    lfn: "/store/x",
    size: 5,
    status: "new",
    from: "T1_A",
    to: "T2_B",
    start: "",
    finish: "",
  });
  assertEquals(heldDetailRow({ id: 2, lfn: "/store/y", site: "T2_B", hold_reason: null }).reason, "unknown");
  assertEquals(
    heldBySite([
      { site: "T2_B", kind: "copy", reason: "no_source", files: 2, bytes: 20 },
      { site: "T2_A", kind: "deletion", reason: "site_unavailable", files: 1, bytes: 10 },
      { site: "T2_B", kind: "copy", reason: "all_failed", files: 1, bytes: 10 },
    ]).map((s) => [s.site, s.counts, s.held.length]),
    [
      ["T2_A", { no_source: 0, all_failed: 0, site_unavailable: 0, unknown: 0 }, 1],
      ["T2_B", { no_source: 2, all_failed: 1, site_unavailable: 0, unknown: 0 }, 2],
    ],
  );
});
