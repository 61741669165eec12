/** @jsxImportSource hono/jsx */
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, so no keys
import { ChartBox } from "./layout.tsx";
import { age, bytes, href, percent, time } from "./format.ts";
import type { ConsistencyRunJson } from "./consistency.tsx";
import { optional, type PageEnv, type PageResult } from "./page.ts";
import { textParam } from "./page_params.ts";
import { type Watermarks, watermarksOf } from "./watermarks.ts";

interface SiteJson {
  name: string;
  storage_type: string;
  status: string;
  num_dataset_replicas: number;
  partitions: {
    name: string;
    quota: number;
    usage: number;
    projected_usage: number;
    occupancy: number | null;
    projected_occupancy: number | null;
  }[];
}
interface CycleJson {
  cycle: number;
  partition: string;
  mode: string;
  status: string;
  started: number;
  ended: number | null;
}
interface SummaryJson {
  cycle_record: CycleJson;
  sites: { site: string; still_triggered: boolean; used_after: number; quota: number; keep: number }[];
}

export interface Alarm {
  what: string;
  detail: string;
}

/** `/web/`: every site's occupancy against quota and watermarks, totals, and what needs attention. */
export async function overviewPage(env: PageEnv): Promise<PageResult> {
  const { api } = env;
  const [sites, detoxCycles, dealerCycles, metrics, consistency] = await Promise.all([
    api.get<SiteJson[]>("/data/inventory/sites"),
    optional(api.get<CycleJson[]>("/data/detox/cycles", { limit: 20 })),
    optional(api.get<CycleJson[]>("/data/dealer/cycles", { limit: 1 })),
    api.text("/metrics"),
    optional(api.get<ConsistencyRunJson[]>("/data/consistency/summary")),
  ]);
  const latestDetox = detoxCycles?.find((c) => c.mode === "normal") ?? detoxCycles?.[0] ?? null;
  const partitions = [...new Set(sites.flatMap((s) => s.partitions.map((p) => p.name)))];
  const partition = textParam(env.url, "partition") ??
    (latestDetox && partitions.includes(latestDetox.partition) ? latestDetox.partition : partitions[0] ?? "");
  const [summary, policy] = latestDetox && latestDetox.partition === partition
    ? await Promise.all([
      api.get<SummaryJson>("/data/detox/summary", { cycle: latestDetox.cycle }),
      api.get<{ text: string }>("/data/detox/policy", { cycle: latestDetox.cycle }),
    ])
    : [null, null];
  const marks: Watermarks = policy ? watermarksOf(policy.text) : { high: null, low: null };

  const rows = sites.map((s) => {
    const p = s.partitions.find((x) => x.name === partition);
    return {
      site: s,
      quota: p?.quota ?? 0,
      physical: p?.usage ?? 0,
      projected: p?.projected_usage ?? 0,
      occupancy: p?.occupancy ?? null,
      projectedOccupancy: p?.projected_occupancy ?? null,
    };
  });
  const total = rows.reduce(
    (t, r) => ({
      quota: t.quota + r.quota,
      physical: t.physical + r.physical,
      projected: t.projected + r.projected,
    }),
    { quota: 0, physical: 0, projected: 0 },
  );
  const alarms = overviewAlarms({
    nowSeconds: env.now() / 1000,
    staleAfterSeconds: env.staleAfterMs / 1000,
    detox: latestDetox,
    dealer: dealerCycles?.[0] ?? null,
    // A site that Detox left above its trigger with data still there (a site in morgue that is empty is done).
    stillTriggered: summary?.sites.filter((s) => s.still_triggered && s.used_after > 0).map((s) => s.site) ??
      [],
    restarts: actorRestarts(metrics),
    consistencyFlagged: (consistency ?? []).filter((r) => r.flagged),
  });
  const pct = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 10);
  const line = (label: string, value: number | null, color: string) =>
    value === null ? [] : [{
      type: "line",
      label,
      data: rows.map(() => value * 100),
      borderColor: color,
      borderDash: [6, 4],
      pointRadius: 0,
      borderWidth: 1.5,
    }];
  const chart = {
    type: "bar",
    data: {
      labels: rows.map((r) => r.site.name),
      datasets: [
        { label: "physical %", data: rows.map((r) => pct(r.occupancy)), backgroundColor: "#3b78b0" },
        {
          label: "projected %",
          data: rows.map((r) => pct(r.projectedOccupancy)),
          backgroundColor: "#a9c7e4",
        },
        ...line("high watermark", marks.high, "#c0392b"),
        ...line("low watermark", marks.low, "#27ae60"),
      ],
    },
    options: {
      scales: {
        y: { beginAtZero: true, title: { display: true, text: `occupancy of ${partition} quota (%)` } },
      },
    },
  };

  return {
    title: "Federation overview",
    body: (
      <>
        <section id="alarms">
          <h2>Alarms</h2>
          {alarms.length === 0 ? <p class="ok">None.</p> : (
            <ul>
              {alarms.map((a) => (
                <li class="alarm">
                  {a.what}: <span>{a.detail}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <form class="filters" method="get" action="/web/">
          <label>
            Partition
            <select name="partition">
              {partitions.map((p) => <option value={p} selected={p === partition}>{p}</option>)}
            </select>
          </label>
          <button type="submit">Show</button>
        </form>
        <p>
          Partition <strong id="partition">{partition}</strong>
          {marks.high !== null
            ? <>; watermarks from the Detox policy: high {percent(marks.high)}, low {percent(marks.low)}</>
            : "; no watermarks (no Detox cycle of this partition)"}
          {latestDetox
            ? (
              <>
                ; last Detox cycle{" "}
                <a href={href("/web/detox/monitor", { cycle: latestDetox.cycle })}>{latestDetox.cycle}</a> at
                {" "}
                {time(latestDetox.started)}
              </>
            )
            : null}
        </p>
        <ChartBox
          id="overview-chart"
          config={chart}
          links={rows.map((r) => href("/web/detox/monitor", { partition, site: r.site.name }))}
        />
        <h2>Sites</h2>
        <table id="sites">
          <thead>
            <tr>
              <th>Site</th>
              <th>Type</th>
              <th>Status</th>
              <th>Quota</th>
              <th>Physical</th>
              <th>Occupancy</th>
              <th>Projected</th>
              <th>Projected occupancy</th>
              <th>Dataset replicas</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr data-site={r.site.name}>
                <td>{r.site.name}</td>
                <td>{r.site.storage_type}</td>
                <td class={r.site.status === "ready" ? "" : "alarm"}>{r.site.status}</td>
                <td class="num">{bytes(r.quota)}</td>
                <td class="num">{bytes(r.physical)}</td>
                <td class={`num ${marks.high !== null && (r.occupancy ?? 0) > marks.high ? "alarm" : ""}`}>
                  {percent(r.occupancy)}
                </td>
                <td class="num">{bytes(r.projected)}</td>
                <td class="num">{percent(r.projectedOccupancy)}</td>
                <td class="num">{r.site.num_dataset_replicas}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th>Total</th>
              <th colspan={2}>
                {rows.length} sites, {rows.filter((r) => r.site.status === "ready").length} ready
              </th>
              <td class="num">{bytes(total.quota)}</td>
              <td class="num">{bytes(total.physical)}</td>
              <td class="num">{percent(total.quota > 0 ? total.physical / total.quota : null)}</td>
              <td class="num">{bytes(total.projected)}</td>
              <td class="num">{percent(total.quota > 0 ? total.projected / total.quota : null)}</td>
              <td class="num">{rows.reduce((n, r) => n + r.site.num_dataset_replicas, 0)}</td>
            </tr>
          </tfoot>
        </table>
      </>
    ),
  };
}

/** What needs an operator's attention (pure). */
export function overviewAlarms(input: {
  nowSeconds: number;
  staleAfterSeconds: number;
  detox: CycleJson | null;
  dealer: CycleJson | null;
  stillTriggered: string[];
  restarts: Map<string, number>;
  /** Sites whose latest consistency run was flagged (nothing acted on: an operator looks). */
  consistencyFlagged?: Pick<ConsistencyRunJson, "site" | "run_id" | "flag_reasons">[];
}): Alarm[] {
  const alarms: Alarm[] = [];
  for (const site of input.stillTriggered) {
    alarms.push({
      what: "Still above the Detox trigger after a cycle",
      detail: `${site} (cycle ${input.detox?.cycle}): only protected data is left to delete there`,
    });
  }
  for (const [name, cycle] of [["Detox", input.detox], ["Dealer", input.dealer]] as const) {
    if (!cycle) continue;
    const ageSeconds = input.nowSeconds - cycle.started;
    if (ageSeconds > input.staleAfterSeconds) {
      alarms.push({
        what: `Stale ${name} cycle`,
        detail: `the last one (${cycle.cycle}) started ${age(ageSeconds)} ago`,
      });
    }
    if (cycle.status !== "done" && cycle.status !== "running") {
      alarms.push({ what: `${name} cycle ${cycle.status}`, detail: `cycle ${cycle.cycle}` });
    }
  }
  for (const [actor, n] of input.restarts) {
    if (n > 0) {
      alarms.push({ what: "Agent restarted", detail: `${actor}: ${n} restart${n === 1 ? "" : "s"}` });
    }
  }
  for (const r of input.consistencyFlagged ?? []) {
    alarms.push({
      what: "Consistency run flagged",
      detail: `${r.site} (run ${r.run_id}): ${r.flag_reasons.join("; ")}`,
    });
  }
  return alarms;
}

/** `dynamo_actor_restarts_total{actor="…"} N` lines of /metrics. */
export function actorRestarts(metrics: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics.matchAll(/^dynamo_actor_restarts_total\{actor="([^"]*)"\} (\d+)/gm)) {
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}
