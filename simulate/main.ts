/**
 * `deno task simulate [--days N] [--seed S] [--scale small|medium] [--json]`:
 * scores our placement against static placement, an LRU reaper and Belady's
 * offline optimum on one simulated trace (docs/simulate.md).
 */
import { parseArgs } from "node:util";
import { figures, renderPlot, renderTable, simulate } from "./simulation.ts";

export function parseSimulateArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      days: { type: "string", default: "365" },
      seed: { type: "string", default: "1" },
      scale: { type: "string", default: "small" },
      json: { type: "boolean", default: false },
    },
    strict: true,
  });
  const int = (name: string, text: string, max: number) => {
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new RangeError(`--${name}: expected an integer from 1 to ${max}, got ${JSON.stringify(text)}`);
    }
    return n;
  };
  if (values.scale !== "small" && values.scale !== "medium") {
    throw new RangeError(`--scale: expected small or medium, got ${JSON.stringify(values.scale)}`);
  }
  return {
    days: int("days", values.days!, 3650),
    seed: int("seed", values.seed!, 2 ** 31 - 1),
    scale: values.scale as "small" | "medium",
    json: values.json!,
  };
}

if (import.meta.main) {
  let o;
  try {
    o = parseSimulateArgs(Deno.args);
  } catch (e) {
    console.error(`simulate: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const started = performance.now();
  const r = simulate(o);
  const seconds = (performance.now() - started) / 1000;
  if (o.json) {
    console.log(JSON.stringify({ ...r, figures: figures(r), seconds }, null, 1));
  } else {
    for (const line of [...renderTable(r), "", ...renderPlot(r), ""]) console.log(line);
    for (const [k, v] of Object.entries(figures(r))) console.log(`${k} ${v}`);
    console.log(`simulate.days_per_second ${(r.days / seconds).toFixed(2)} (${seconds.toFixed(1)} s)`);
  }
}
