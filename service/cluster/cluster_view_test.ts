import { assertEquals } from "../../tests/helpers/assert.ts";
import { nodeViews } from "./cluster_view.ts";

const row = (
  id: string,
  role: "leader" | "follower" | "stopped",
  heartbeatMs: number,
  journalSeq: number,
) => ({
  id,
  host: "h",
  pid: 1,
  version: "0.1.0",
  url: `http://${id}`,
  role,
  startedMs: 0,
  heartbeatMs,
  journalSeq,
  leaseChanges: 0,
});

Deno.test("a node that stopped beating is dead, holds no lease and has no lag; a live one lags the head", () => {
  const views = nodeViews(
    [row("a", "leader", 1000, 5), row("b", "follower", 9000, 7), row("c", "stopped", 9500, 3)],
    { nowMs: 10_000, journalHead: 10, leaseHolder: "a", staleMs: 3000 },
  );
  assertEquals(views.map((v) => [v.id, v.role, v.holdsLease, v.lag, v.heartbeatAgeMs]), [
    ["a", "dead", false, 0, 9000],
    ["b", "follower", false, 3, 1000],
    ["c", "stopped", false, 0, 500],
  ]);
});
