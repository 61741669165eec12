/**
 * The file transfer and deletion histograms of the original web monitor
 * (`/data/transfers/history` and `/data/deletions/history` with `graph`…):
 * one series per destination, source or link (per site for deletions), binned
 * in weeks, days, hours or minutes so that the period has at least ten bins,
 * and a summary on the first series. The original built its filters into SQL
 * text (**[BUG]** injection) and failed on a malformed period; here every
 * parameter is checked and the filters are name patterns.
 */
import { BadRequest } from "./errors.ts";
import { globParam, type Matcher } from "./param_patterns.ts";

export const GRAPHS = ["number", "volume", "rate", "cumulative"] as const;
export const ENTITIES = ["dest", "src", "link"] as const;
export type Graph = typeof GRAPHS[number];
export type Entity = typeof ENTITIES[number];

export interface HistoryGraphQuery {
  graph: Graph;
  entity: Entity;
  srcFilter: Matcher | null;
  destFilter: Matcher | null;
  /** Leave out operations at sites whose name ends in `MSS` (tape). */
  noMss: boolean;
  periodSeconds: number;
  uptoSeconds: number;
  exitCode: (code: number) => boolean;
}

/** A finished file operation; `destination` is null for a deletion (at `source`). */
export interface FinishedOperation {
  source: string;
  destination: string | null;
  size: number;
  exitCode: number;
  /** Unix seconds. */
  finished: number;
}

export interface Point {
  time: number;
  y_value: number;
}

export type Series = { name: string; data: Point[] } & Record<string, unknown>;

/** Parameters as the monitor sends them (every one optional, with the original's defaults). */
export interface HistoryGraphParams {
  graph?: string | undefined;
  entity?: string | undefined;
  src_filter?: string | undefined;
  dest_filter?: string | undefined;
  no_mss?: string | undefined;
  period?: string | undefined;
  upto?: string | undefined;
  exit_code?: string | undefined;
}

const UNIT_SECONDS: Record<string, number> = { h: 3600, d: 86400, w: 604800 };
const MAX_SPAN_SECONDS = 520 * 604800; // ten years

function duration(name: string, text: string, positive: boolean): number {
  const m = /^(\d{1,6})([hdw])$/.exec(text.trim());
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[m[2]!]! : NaN;
  if (!m || seconds > MAX_SPAN_SECONDS || (positive && seconds === 0)) {
    throw new BadRequest(
      name,
      `expected a whole number of hours, days or weeks (e.g. 24h, 7d, 6w) up to 520w${
        positive ? ", not 0" : ""
      }, got ${JSON.stringify(text)}`,
    );
  }
  return seconds;
}

/** A site filter: a name or pattern with `*` or SQL's `%` for any run of characters (the original used SQL LIKE). */
function siteFilter(text: string | undefined): Matcher | null {
  if (text === undefined || text.trim() === "") return null;
  return globParam(text.trim().replaceAll("%", "*"));
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined || value === "") return fallback;
  if (!allowed.includes(value as T)) {
    throw new BadRequest(name, `expected one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export function historyGraphQuery(p: HistoryGraphParams): HistoryGraphQuery {
  const exit = (p.exit_code ?? "0").trim();
  const m = /^(!?)(-?\d{1,9})$/.exec(exit);
  if (exit !== "*" && !m) {
    throw new BadRequest(
      "exit_code",
      `expected a code (0 = success), !code (all but it) or *, got ${JSON.stringify(exit)}`,
    );
  }
  const code = m ? Number(m[2]) : 0;
  const noMss = p.no_mss ?? "true";
  if (!["true", "false"].includes(noMss)) {
    throw new BadRequest("no_mss", `expected true or false, got ${JSON.stringify(noMss)}`);
  }
  return {
    graph: oneOf("graph", p.graph, GRAPHS, "volume"),
    entity: oneOf("entity", p.entity, ENTITIES, "dest"),
    srcFilter: siteFilter(p.src_filter),
    destFilter: siteFilter(p.dest_filter),
    noMss: noMss === "true",
    periodSeconds: duration("period", p.period ?? "24h", true),
    uptoSeconds: duration("upto", p.upto ?? "0h", false),
    exitCode: exit === "*" ? () => true : m![1] === "!" ? (c) => c !== code : (c) => c === code,
  };
}

/** The window [tmin, tmax) a query covers at `nowSeconds`. */
export function historyWindow(q: HistoryGraphQuery, nowSeconds: number): { tmin: number; tmax: number } {
  const tmax = nowSeconds - q.uptoSeconds;
  return { tmin: tmax - q.periodSeconds, tmax };
}

/** As the original: weeks, else days, else hours, else minutes, whichever first gives ten bins. */
export function binning(span: number): { nbins: number; dt: number } {
  let nbins = Math.floor(span / 604800);
  if (nbins < 10) nbins = Math.floor(span / 86400);
  if (nbins < 10) nbins = Math.floor(span / 3600);
  if (nbins < 10) nbins = Math.floor(span / 60);
  nbins = Math.max(nbins, 1);
  return { nbins, dt: span / nbins };
}

const fmt = (x: number, digits: number) => x.toFixed(digits);
const isoSeconds = (t: number) => new Date(t * 1000).toISOString().slice(0, 19).replace("T", " ");

export function historyGraph(
  operations: readonly FinishedOperation[],
  q: HistoryGraphQuery,
  nowSeconds: number,
  kind: "transfers" | "deletions",
): Series[] {
  const { tmin, tmax } = historyWindow(q, nowSeconds);
  const { nbins, dt } = binning(tmax - tmin);
  const mss = (site: string | null) => site !== null && site.endsWith("MSS");
  const series = new Map<string, number[]>();
  for (const op of operations) {
    if (op.finished < tmin || op.finished >= tmax) continue;
    if (q.srcFilter && !q.srcFilter(op.source)) continue;
    if (q.destFilter && (op.destination === null || !q.destFilter(op.destination))) continue;
    if (q.noMss && (mss(op.source) || mss(op.destination))) continue;
    if (!q.exitCode(op.exitCode)) continue;
    const key = op.destination === null || q.entity === "src"
      ? op.source
      : q.entity === "dest"
      ? op.destination
      : `${op.source}->${op.destination}`;
    let hist = series.get(key);
    if (!hist) series.set(key, hist = new Array<number>(nbins).fill(0));
    const bin = Math.min(Math.floor((op.finished - tmin) / dt), nbins - 1);
    hist[bin]! += q.graph === "number" ? 1 : op.size / 1e9;
  }
  const total = new Array<number>(nbins).fill(0);
  const out: Series[] = [...series.keys()].sort().map((name) => {
    let cumulative = 0;
    const data = series.get(name)!.map((y, i) => {
      cumulative += y;
      const value = q.graph === "cumulative" ? cumulative : q.graph === "rate" ? y / dt : y;
      total[i]! += value;
      return { time: tmin + i * dt, y_value: value };
    });
    return { name, data };
  });
  const stats = series.size > 0 && nbins > 1
    ? {
      min: Math.min(...total),
      max: Math.max(...total),
      avg: total.reduce((a, b) => a + b, 0) / nbins,
      last: total[nbins - 1]!,
    }
    : { min: 0, max: 0, avg: 0, last: 0 };
  const noun = kind === "transfers" ? "Transfered" : "Deleted";
  let label = `${noun} Volume [GB]`;
  let summary = `Min: ${fmt(stats.min, 3)} GB, Max: ${fmt(stats.max, 3)} GB, Avg: ${
    fmt(stats.avg, 3)
  } GB, Last: ${fmt(stats.last, 3)} GB`;
  if (q.graph === "rate") {
    label = kind === "transfers" ? "Transfered Rate [GB/sec]" : "Deletion Rate [GB/sec]";
    summary = `Min: ${fmt(stats.min, 3)} GB/s, Max: ${fmt(stats.max, 3)} GB/s, Avg: ${
      fmt(stats.avg, 3)
    } GB/s, Last: ${fmt(stats.last, 3)} GB/s`;
  } else if (q.graph === "cumulative") {
    label = `Cumulative ${noun} Volume [GB]`;
    summary = `Total: ${fmt(stats.last, 3)} GB, Avg Rate: ${fmt(stats.last / (tmax - tmin), 3)} GB/s`;
  } else if (q.graph === "number") {
    label = kind === "transfers" ? "Number of Transfers" : "Number of Deletions";
    summary = `Min: ${fmt(stats.min, 0)}, Max: ${fmt(stats.max, 0)}, Avg: ${fmt(stats.avg, 0)}, Last: ${
      fmt(stats.last, 0)
    }`;
  }
  const unit = Math.abs(dt - 604800) < 1
    ? " / week"
    : Math.abs(dt - 86400) < 1
    ? " / day"
    : Math.abs(dt - 3600) < 1
    ? " / hour"
    : Math.abs(dt - 60) < 1
    ? " / minute"
    : "";
  // An empty histogram is one empty series carrying the labels, as the original's `[{}]`.
  const first = out[0] ?? ({} as Series);
  Object.assign(first, {
    yaxis_label: label + unit,
    title: kind === "transfers"
      ? `Dynamo Transfers (${q.graph} by ${q.entity})`
      : `Dynamo Deletions (${q.graph})`,
    subtitle: `Time period: ${isoSeconds(tmin)} -- ${isoSeconds(tmax)}`,
    summary_string: summary,
  });
  return out.length ? out : [first];
}
