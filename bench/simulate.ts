/**
 * Placement quality figures (issue 19) from one simulated run: hit rates of
 * ours, static, LRU and Belady's oracle, ours against the oracle and against
 * LRU's bytes copied, and how many simulated days run per second.
 */
import { figures, simulate } from "../simulate/simulation.ts";

export function benchSimulate(days = 90, seed = 1): Record<string, number> {
  const started = performance.now();
  const r = simulate({ seed, days, scale: "small" });
  const seconds = (performance.now() - started) / 1000;
  return { ...figures(r), "simulate.days_per_second": Math.round((days / seconds) * 100) / 100 };
}
