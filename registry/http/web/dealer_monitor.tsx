/** @jsxImportSource hono/jsx */
import { Banner, ChartBox } from "./layout.tsx";
import { bytes, href, time } from "./format.ts";
import type { PageEnv, PageResult } from "./page.ts";
import { intParam } from "./page_params.ts";

interface CycleJson {
  cycle: number;
  mode: string;
  status: string;
  started: number;
  accepted: number;
  rejected: number;
  bytes: number;
  error: string | null;
}
interface DecisionJson {
  cycle: number;
  plugin: string;
  dataset: string;
  site: string | null;
  accepted: boolean;
  reason: string | null;
  why: string | null;
  bytes: number;
  request_id: number | null;
}

const CYCLES = 12;
const ROWS = 500;

/** The Dealer monitor: proposals per plugin, accepted and rejected with reasons, volume per destination per cycle. */
export async function dealerMonitorPage(env: PageEnv): Promise<PageResult> {
  const cycles = await env.api.get<CycleJson[]>("/data/dealer/cycles", { limit: CYCLES });
  if (cycles.length === 0) {
    return { title: "Dealer monitor", body: <Banner kind="info">No Dealer cycle yet.</Banner> };
  }
  const chosen = intParam(env.url, "cycle") ?? cycles[0]!.cycle;
  const recent = [...cycles].reverse();
  const perCycle = await Promise.all(
    recent.map((c) =>
      env.api.get<DecisionJson[]>("/data/dealer/decisions", { cycle: c.cycle, limit: 100_000 })
    ),
  );
  const destinations = [...new Set(perCycle.flat().filter((d) => d.accepted && d.site).map((d) => d.site!))]
    .sort();
  const palette = ["#3b78b0", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d", "#2c3e50"];
  const chart = {
    type: "bar",
    data: {
      labels: recent.map((c) => `${c.cycle} (${time(c.started).slice(5)})`),
      datasets: destinations.map((site, i) => ({
        label: site,
        stack: "bytes",
        backgroundColor: palette[i % palette.length],
        data: perCycle.map((ds) =>
          Math.round(ds.filter((d) => d.accepted && d.site === site).reduce((n, d) => n + d.bytes, 0) / 1e4) /
          100
        ),
      })),
    },
    options: {
      scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "MB accepted" } } },
    },
  };
  const decisions = await env.api.get<DecisionJson[]>("/data/dealer/decisions", {
    cycle: chosen,
    limit: ROWS,
  });
  const plugins = new Map<string, { accepted: number; rejected: number; bytes: number }>();
  for (const d of decisions) {
    const p = plugins.get(d.plugin) ?? { accepted: 0, rejected: 0, bytes: 0 };
    if (d.accepted) {
      p.accepted++;
      p.bytes += d.bytes;
    } else p.rejected++;
    plugins.set(d.plugin, p);
  }
  return {
    title: "Dealer monitor",
    body: (
      <>
        <h2>Volume accepted per destination, last {recent.length} cycles</h2>
        <ChartBox
          id="dealer-chart"
          config={chart}
          links={recent.map((c) => href("/web/dealer/monitor", { cycle: c.cycle }))}
          height={280}
        />
        <h2>Cycle {chosen}: proposals per plugin</h2>
        <table id="plugins">
          <thead>
            <tr>
              <th>Plugin</th>
              <th>Accepted</th>
              <th>Rejected</th>
              <th>Volume accepted</th>
            </tr>
          </thead>
          <tbody>
            {[...plugins].map(([name, p]) => (
              <tr>
                <td>{name}</td>
                <td class="num">{p.accepted}</td>
                <td class="num">{p.rejected}</td>
                <td class="num">{bytes(p.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>Proposals of cycle {chosen}{decisions.length === ROWS ? ` (the first ${ROWS})` : ""}</h2>
        <table id="proposals">
          <thead>
            <tr>
              <th>Plugin</th>
              <th>Dataset</th>
              <th>Site</th>
              <th>Accepted</th>
              <th>Reason</th>
              <th>Why</th>
              <th>Size</th>
              <th>Request</th>
            </tr>
          </thead>
          <tbody>
            {decisions.map((d) => (
              <tr>
                <td>{d.plugin}</td>
                <td>{d.dataset}</td>
                <td>{d.site ?? ""}</td>
                <td class={d.accepted ? "ok" : "alarm"}>{d.accepted ? "yes" : "no"}</td>
                <td>{d.reason ?? ""}</td>
                <td>{d.why ?? ""}</td>
                <td class="num">{bytes(d.bytes)}</td>
                <td>
                  {d.request_id !== null
                    ? <a href={`/web/requests/copy/${d.request_id}`}>{d.request_id}</a>
                    : ""}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>Cycles</h2>
        <ul>
          {cycles.map((c) => (
            <li>
              <a href={href("/web/dealer/monitor", { cycle: c.cycle })}>{c.cycle}</a> {c.mode} {c.status}{" "}
              {time(c.started)}: {c.accepted} accepted, {c.rejected} rejected, {bytes(c.bytes)}
              {c.error ? ` — ${c.error}` : ""}
            </li>
          ))}
        </ul>
      </>
    ),
  };
}
