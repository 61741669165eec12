import { SeededRng } from "../actors/runtime/clock.ts";
import {
  catalogFromAnnex,
  EMPTY_ANNEX,
  type InventoryCommand,
  type InventoryState,
  reduceBatch,
  Snapshot,
} from "../registry/inventory/mod.ts";
import { datasetName, type Scale } from "./generate.ts";

/** Snapshot publication: median milliseconds to reduce and build a 100-command batch at this scale. */
export function benchPublish(state: InventoryState, scale: Scale, seed: number): number {
  const rng = new SeededRng(seed + 1);
  const samples: number[] = [];
  let s = state;
  for (let i = 0; i < 40; i++) {
    const commands: InventoryCommand[] = [];
    for (let k = 0; k < 100; k++) {
      const d = 1 + rng.int(scale.datasets);
      commands.push({ op: "dataset.upsert", name: datasetName(d), last_update: 1_700_000_000 + i * 100 + k });
    }
    const started = performance.now();
    const result = reduceBatch(
      s,
      [{ commands }],
      catalogFromAnnex(EMPTY_ANNEX),
      Date.now(),
      s.generation + 1,
    );
    new Snapshot(result.state);
    samples.push(performance.now() - started);
    s = result.state;
  }
  samples.sort((a, b) => a - b);
  return Math.round(samples[Math.floor(samples.length / 2)]! * 1000) / 1000;
}

/** Resident memory now and at its peak (VmHWM), in MB. */
export function processMemory(): { rssMb: number; peakRssMb: number | null } {
  const rssMb = Math.round(Deno.memoryUsage().rss / 2 ** 20);
  let peakRssMb: number | null = null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
    if (m) peakRssMb = Math.round(Number(m[1]) / 1024);
  } catch {
    // not Linux: the peak is unknown
  }
  return { rssMb, peakRssMb };
}
