/**
 * `deno task bench --repeat N`: the whole bench run N times, one process after another, each figure
 * reported as the median of the N runs, its range beside it. On a shared VM the figures behind the ratio
 * targets swing 1.3–1.5× between processes of the same code, and the machine itself runs faster in some
 * quarter-hours than in others (docs/performance.md): one run cannot say on which side of a line a
 * figure is. A ratio's median is the median of the runs' ratios, each against the limit measured in its
 * own process, never a ratio of two medians.
 */
import { fileURLToPath } from "node:url";

/** More runs than this is a mistake (a small run takes ~2.5 minutes, a CMS-scale one much longer). */
export const MAX_REPEAT = 20;

/** `--repeat`'s value: a whole number of runs from 1 to MAX_REPEAT (absent: 1). */
export function parseRepeat(text: string | undefined): number {
  if (text === undefined) return 1;
  if (!/^[0-9]{1,3}$/.test(text) || Number(text) < 1 || Number(text) > MAX_REPEAT) {
    throw new TypeError(`--repeat must be a whole number of runs from 1 to ${MAX_REPEAT}, got "${text}"`);
  }
  return Number(text);
}

/** The middle value of `xs` (not empty); of an even count, the mean of the two middle ones. */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * One object of figures out of several runs' objects: a figure that is a number in every run becomes its
 * median, and `bench.ranges` gives its [lowest, highest] where they differ; any other value is kept when
 * every run printed the same, and is otherwise the list of what each run printed (null where a run had
 * none). `bench.runs` is the number of runs.
 */
export function medianFigures(runs: readonly Record<string, unknown>[]): Record<string, unknown> {
  if (runs.length === 0) throw new RangeError("no runs to take medians of");
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r)))];
  const out: Record<string, unknown> = { "bench.runs": runs.length };
  const ranges: Record<string, [number, number]> = {};
  for (const key of keys) {
    const values = runs.map((r) => r[key]);
    if (values.every((v): v is number => typeof v === "number" && Number.isFinite(v))) {
      out[key] = Math.round(median(values) * 1e6) / 1e6;
      const low = Math.min(...values);
      const high = Math.max(...values);
      if (low !== high) ranges[key] = [low, high];
    } else {
      const texts = values.map((v) => JSON.stringify(v ?? null));
      out[key] = texts.every((t) => t === texts[0]) ? values[0] : values.map((v) => v ?? null);
    }
  }
  out["bench.ranges"] = ranges;
  return out;
}

/**
 * Runs `deno task bench` with `args` (without `--repeat`) `n` times, one after another, each in a
 * process of its own started the way a user starts it (the task's V8 flags and permissions), and
 * returns the median figures. A run that fails ends the whole: its median would be of fewer runs than
 * asked for.
 */
export async function repeatBench(
  args: readonly string[],
  n: number,
  log: (msg: string) => void,
): Promise<Record<string, unknown>> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const runs: Record<string, unknown>[] = [];
  for (let i = 1; i <= n; i++) {
    log(`run ${i} of ${n}`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "--quiet", "bench", ...args],
      cwd: root,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!out.success) throw new Error(`bench run ${i} of ${n} exited ${out.code}`);
    runs.push(JSON.parse(new TextDecoder().decode(out.stdout)) as Record<string, unknown>);
  }
  return medianFigures(runs);
}
