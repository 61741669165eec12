/** @jsxImportSource hono/jsx */
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, so no keys
import { ChartBox } from "./layout.tsx";
import { href, time } from "./format.ts";
import type { PageEnv, PageResult } from "./page.ts";
import { oneOf, textParam } from "./page_params.ts";

interface Series {
  name?: string;
  data?: { time: number; y_value: number }[];
  yaxis_label?: string;
  title?: string;
  subtitle?: string;
  summary_string?: string;
}
interface Finished {
  error: string | null;
  exit_code: number;
  size: number;
}

const PERIODS = ["1h", "6h", "24h", "7d", "30d", "90d", "52w"] as const;
const GRAPHS = ["volume", "number", "rate", "cumulative"] as const;
const ENTITIES = ["dest", "src", "link"] as const;
/** Finished operations read to count failures by error class. */
const FAILURE_ROWS = 10_000;
const PERIOD_SECONDS: Record<string, number> = { h: 3600, d: 86400, w: 604800 };

/**
 * `/web/transfers/activity` and `/web/deletions/activity`: the original monitor's
 * histograms (number, volume, rate or cumulative volume over an hour to a year,
 * grouped by destination, source or link) from `/data/<kind>/history?graph=…`,
 * and the failures of the period by error class.
 */
export function activityPage(kind: "transfers" | "deletions") {
  return async (env: PageEnv): Promise<PageResult> => {
    const { url } = env;
    const graph = oneOf(url, "graph", GRAPHS) ?? "volume";
    const entity = kind === "transfers" ? oneOf(url, "entity", ENTITIES) ?? "dest" : undefined;
    const period = oneOf(url, "period", PERIODS) ?? "24h";
    const site = textParam(url, "site");
    const failures = url.searchParams.get("failures") === "y";
    const [series, finished] = await Promise.all([
      env.api.get<Series[]>(`/data/${kind}/history`, {
        graph,
        entity,
        period,
        no_mss: "false",
        exit_code: failures ? "!0" : "0",
        ...(site
          ? (kind === "transfers" && entity === "src"
            ? { src_filter: site }
            : kind === "transfers"
            ? { dest_filter: site }
            : { src_filter: site })
          : {}),
      }),
      env.api.get<Finished[]>(`/data/${kind}/history`, {
        limit: FAILURE_ROWS,
        since: Math.floor(env.now() / 1000) - Number(period.slice(0, -1)) * PERIOD_SECONDS[period.slice(-1)]!,
      }),
    ]);
    const head = series[0] ?? {};
    const withData = series.filter((s) => s.data && s.data.length > 0);
    const palette = ["#3b78b0", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#2c3e50"];
    const chart = {
      type: "bar",
      data: {
        labels: (withData[0]?.data ?? []).map((p) => time(p.time)),
        datasets: withData.map((s, i) => ({
          label: s.name ?? "",
          stack: "all",
          backgroundColor: palette[i % palette.length],
          data: s.data!.map((p) => Math.round(p.y_value * 1e6) / 1e6),
        })),
      },
      options: {
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: head.yaxis_label ?? "" } },
        },
      },
    };
    const classes = new Map<string, { n: number; bytes: number }>();
    let failed = 0;
    for (const f of finished) {
      if (f.exit_code === 0) continue;
      failed++;
      const c = classes.get(f.error ?? `exit ${f.exit_code}`) ?? { n: 0, bytes: 0 };
      c.n++;
      c.bytes += f.size;
      classes.set(f.error ?? `exit ${f.exit_code}`, c);
    }
    const path = `/web/${kind}/activity`;
    const noun = kind === "transfers" ? "Transfer" : "Deletion";
    return {
      title: `${noun} activity`,
      body: (
        <>
          <form class="filters" method="get" action={path}>
            <label>
              Graph
              <select name="graph">
                {GRAPHS.map((g) => <option value={g} selected={g === graph}>{g}</option>)}
              </select>
            </label>
            {kind === "transfers"
              ? (
                <label>
                  Grouped by
                  <select name="entity">
                    {ENTITIES.map((e) => <option value={e} selected={e === entity}>{e}</option>)}
                  </select>
                </label>
              )
              : null}
            <label>
              Period
              <select name="period">
                {PERIODS.map((p) => <option value={p} selected={p === period}>{p}</option>)}
              </select>
            </label>
            <label>
              Site (wildcards)<input name="site" value={site ?? ""} />
            </label>
            <label>
              Failed only<input type="checkbox" name="failures" value="y" checked={failures} />
            </label>
            <button type="submit">Show</button>
          </form>
          <p id="activity-summary">
            {head.title ?? ""} · {head.subtitle ?? ""} · {head.summary_string ?? ""}
          </p>
          {withData.length > 0
            ? <ChartBox id="activity-chart" config={chart} height={320} />
            : <p class="muted">Nothing finished in this period.</p>}
          <h2>Failures in the period by error class</h2>
          {classes.size === 0 ? <p class="muted" id="no-failures">None.</p> : (
            <table id="failures">
              <thead>
                <tr>
                  <th>Error class</th>
                  <th>Files</th>
                </tr>
              </thead>
              <tbody>
                {[...classes].sort((a, b) => b[1].n - a[1].n).map(([name, c]) => (
                  <tr>
                    <td>{name}</td>
                    <td class="num">{c.n}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {finished.length === FAILURE_ROWS
            ? <p class="muted">Counted over the newest {FAILURE_ROWS} finished operations of the period.</p>
            : <p class="muted">{failed} of {finished.length} finished operations failed.</p>}
          <p>
            <a href={href(path, { graph, entity, period, site, failures: failures ? "y" : undefined })}>
              Link to this view
            </a>
          </p>
        </>
      ),
    };
  };
}
