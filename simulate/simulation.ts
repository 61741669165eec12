/**
 * One simulation: a trace from the seed, every strategy on it, the scores,
 * and their renderings (a table and a per-day hit-rate plot).
 */
import { type DealerConfig, parseDealerConfig, type PluginEntry } from "../policies/dealer/dealer_config.ts";
import { CacheStrategy } from "./cache_strategies.ts";
import { Ours, type OursConfig } from "./ours.ts";
import { score, type StrategyScore } from "./run.ts";
import { Links, type Strategy } from "./strategy.ts";
import { makeTrace, type Scale, TB, type Trace } from "./trace.ts";

export interface SimulationOptions {
  seed: number;
  days: number;
  scale: Scale;
  /** Our configuration; default: the demo's (examples/demo/). */
  ours?: OursConfig;
  equalSizes?: boolean | undefined;
  instantCopies?: boolean | undefined;
  /** Strategies to run (default all four). */
  only?: readonly string[] | undefined;
}

export interface SimulationResult {
  seed: number;
  days: number;
  scale: Scale;
  datasets: number;
  jobs: number;
  strategies: StrategyScore[];
}

/**
 * The demo's datasets are megabytes where the simulator's are terabytes: the
 * demo's size limits (in TB, as every Dealer configuration) are multiplied by
 * this so that they mean the same relative to the data.
 */
export const DEMO_SIZE_SCALE = 1e6;

/**
 * Detox making room for waiting copy requests (docs/detox.md): off, as in the service. On (0.2 or 0.05 of
 * a quota) it cut the wait of a missed job from 21 h to 5–10 h but lost hit rate and copied more over a
 * year (docs/simulate.md, `simulate/tune.ts` variants "room 0.2" and "room 0.05").
 */
export const ROOM_FOR_REQUESTS = 0;

export function demoConfig(): OursConfig {
  const read = (path: string) => Deno.readTextFileSync(new URL(`../examples/demo/${path}`, import.meta.url));
  return {
    dealer: scaleSizes(parseDealerConfig(read("dealer.json"), "examples/demo/dealer.json"), DEMO_SIZE_SCALE),
    detoxPolicy: read("detox/Physics.txt"),
    partitions: read("partitions.txt"),
    cycleHours: 4,
    roomForRequests: ROOM_FOR_REQUESTS,
  };
}

/** A Dealer configuration with every size limit multiplied by `k`. */
export function scaleSizes(c: DealerConfig, k: number): DealerConfig {
  return {
    ...c,
    maxTotalCycleVolume: c.maxTotalCycleVolume * k,
    plugins: c.plugins.map((p): PluginEntry => {
      switch (p.module) {
        case "CopyRequestsHandler":
          return { ...p, config: { ...p.config, maxSize: p.config.maxSize * k } };
        case "PopularityHandler":
        case "EnforcerHandler":
          return {
            ...p,
            config: { ...p.config, maxDatasetSize: p.config.maxDatasetSize * k },
          } as PluginEntry;
        case "BalancingHandler":
          return {
            ...p,
            config: {
              ...p.config,
              maxDatasetSize: p.config.maxDatasetSize * k,
              maxCycleVolume: p.config.maxCycleVolume * k,
            },
          };
        default:
          return p;
      }
    }),
  };
}

export function simulate(o: SimulationOptions): SimulationResult {
  const trace = makeTrace({ seed: o.seed, days: o.days, scale: o.scale, equalSizes: o.equalSizes });
  const strategies = buildStrategies(trace, o);
  return {
    seed: o.seed,
    days: o.days,
    scale: o.scale,
    datasets: trace.datasets.length,
    jobs: trace.jobs.reduce((s, j) => s + j.length, 0),
    strategies: score(trace, strategies),
  };
}

export function buildStrategies(trace: Trace, o: SimulationOptions): Strategy[] {
  const links = () => new Links(trace.sites, o.instantCopies ?? false);
  const all: Strategy[] = [];
  const want = (n: string) => !o.only || o.only.includes(n);
  if (want("ours")) all.push(new Ours(trace, links(), o.ours ?? demoConfig()));
  for (const k of ["static", "lru", "oracle"] as const) {
    if (want(k)) all.push(new CacheStrategy(k, trace, links()));
  }
  return all;
}

/** The bench figures of issue 19. */
export function figures(r: SimulationResult): Record<string, number> {
  const by = new Map(r.strategies.map((s) => [s.name, s]));
  const out: Record<string, number> = {};
  for (const s of r.strategies) out[`placement.hit_rate.${s.name}`] = round(s.hitRate);
  const ours = by.get("ours");
  const oracle = by.get("oracle");
  const lru = by.get("lru");
  if (ours && oracle) out["placement.hit_rate_to_oracle"] = round(ours.hitRate / oracle.hitRate);
  if (ours && lru && lru.bytesCopied > 0) {
    out["placement.bytes_copied_to_lru"] = round(ours.bytesCopied / lru.bytesCopied);
  }
  return out;
}

export function renderTable(r: SimulationResult): string[] {
  const head = [
    "strategy",
    "job hit",
    "byte hit",
    "wait mean h",
    "wait p95 h",
    "unresolved",
    "copied TB",
    "deleted TB",
    "max occ",
    "over quota (ours/prod)",
    "last copies lost",
  ];
  const rows = r.strategies.map((s) => [
    s.name,
    s.hitRate.toFixed(4),
    s.byteHitRate.toFixed(4),
    s.meanWaitHours.toFixed(1),
    String(s.p95WaitHours),
    String(s.unresolved),
    (s.bytesCopied / TB).toFixed(0),
    (s.bytesDeleted / TB).toFixed(0),
    Math.max(...Object.values(s.maxOccupancy)).toFixed(3),
    `${s.quotaViolations.byStrategy}/${s.quotaViolations.byProduction}`,
    String(s.lastCopiesLost),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [
    `Simulated ${r.days} days, seed ${r.seed}, scale ${r.scale}: ${r.datasets} datasets, ${r.jobs} jobs`,
    line(head),
    ...rows.map(line),
  ];
}

const MARKS: Record<string, string> = { ours: "o", static: "s", lru: "l", oracle: "*" };

/** Per-day hit rate, one column per day (bucketed to the width), one row per tenth from the lowest rate. */
export function renderPlot(r: SimulationResult, width = 72, height = 10): string[] {
  const series = r.strategies.map((s) => ({ name: s.name, daily: bucket(s.daily, width) }));
  const all = series.flatMap((s) => s.daily);
  if (all.length === 0) return [];
  const lo = Math.min(...all);
  const hi = 1;
  const rows: string[][] = Array.from({ length: height }, () => Array(series[0]!.daily.length).fill(" "));
  for (const s of series) {
    s.daily.forEach((v, x) => {
      const y = hi === lo ? 0 : Math.round(((hi - v) / (hi - lo)) * (height - 1));
      rows[y]![x] = MARKS[s.name] ?? "?";
    });
  }
  return [
    `Daily job hit rate (${series.map((s) => `${MARKS[s.name]} ${s.name}`).join(", ")})`,
    ...rows.map((row, y) => `${(hi - ((hi - lo) * y) / (height - 1)).toFixed(3)} |${row.join("")}`),
  ];
}

function bucket(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values];
  return Array.from({ length: width }, (_, b) => {
    const from = Math.floor((b * values.length) / width);
    const to = Math.max(from + 1, Math.floor(((b + 1) * values.length) / width));
    const part = values.slice(from, to);
    return part.reduce((a, c) => a + c, 0) / part.length;
  });
}

const round = (x: number) => Math.round(x * 10000) / 10000;
