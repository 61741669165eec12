import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { BadRequest } from "./errors.ts";
import { binning, historyGraph, historyGraphQuery, historyWindow } from "./history_graph.ts";

Deno.test("binning: weeks, days, hours or minutes, whichever first gives ten bins (as the original)", () => {
  assertEquals(binning(52 * 604800), { nbins: 52, dt: 604800 });
  assertEquals(binning(30 * 86400), { nbins: 30, dt: 86400 });
  assertEquals(binning(7 * 86400), { nbins: 168, dt: 3600 });
  assertEquals(binning(3600), { nbins: 60, dt: 60 });
});

Deno.test("historyGraphQuery: the original's defaults; every value checked", () => {
  const q = historyGraphQuery({});
  assertEquals([q.graph, q.entity, q.noMss, q.periodSeconds, q.uptoSeconds], [
    "volume",
    "dest",
    true,
    86400,
    0,
  ]);
  assertEquals([q.exitCode(0), q.exitCode(1)], [true, false]);
  const not = historyGraphQuery({ exit_code: "!5" });
  assertEquals([not.exitCode(5), not.exitCode(0)], [false, true]);
  assertEquals(historyGraphQuery({ exit_code: "*" }).exitCode(-3), true);
  assertEquals(historyWindow(historyGraphQuery({ period: "2d", upto: "1w" }), 1_000_000), {
    tmin: 1_000_000 - 604800 - 172800,
    tmax: 1_000_000 - 604800,
  });
  for (
    const bad of [{ period: "0w" }, { upto: "1y" }, { exit_code: "1 OR 1" }, { graph: "" + "pie" }, {
      no_mss: "0",
    }]
  ) {
    assertThrows(() => historyGraphQuery(bad), BadRequest);
  }
});

Deno.test("historyGraph: series per link, rate and cumulative, filters, an empty window keeps the labels", () => {
  const now = 100 * 3600;
  const ops = [
    { source: "A", destination: "B", size: 3.6e9, exitCode: 0, finished: now - 1800 },
    { source: "A", destination: "B", size: 3.6e9, exitCode: 0, finished: now - 5400 },
    { source: "A_MSS", destination: "B", size: 1e9, exitCode: 0, finished: now - 1800 },
    { source: "C", destination: "B", size: 1e9, exitCode: 1, finished: now - 1800 },
  ];
  const rate = historyGraph(
    ops,
    historyGraphQuery({ graph: "rate", entity: "link", period: "10h" }),
    now,
    "transfers",
  );
  assertEquals(rate.map((s) => s.name), ["A->B"]);
  assertEquals(rate[0]!.data.slice(-2).map((p) => p.y_value), [0.001, 0.001], "GB/s over one-hour bins");
  const cumulative = historyGraph(
    ops,
    historyGraphQuery({ graph: "cumulative", no_mss: "false", exit_code: "*", period: "10h" }),
    now,
    "transfers",
  );
  assertEquals(cumulative[0]!.data.at(-1)!.y_value, 3.6 + 3.6 + 1 + 1);
  const empty = historyGraph(ops, historyGraphQuery({ period: "1h", upto: "10h" }), now, "deletions");
  assertEquals(empty.length, 1);
  assertEquals(empty[0]!.title, "Dynamo Deletions (volume)");
  assertEquals("name" in empty[0]!, false);
});
