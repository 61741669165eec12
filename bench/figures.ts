/** Small helpers every bench section reports its figures with. */
import process from "node:process";

/** `x` rounded to `digits` decimals (figures are printed as JSON numbers). */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** User and system CPU seconds of this process since `start` (a `process.cpuUsage()`), to the millisecond. */
export function cpuSecondsSince(start: { user: number; system: number }): number {
  const d = process.cpuUsage(start);
  return round((d.user + d.system) / 1e6, 3);
}
