/** @jsxImportSource hono/jsx */
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, so no keys
import { Banner, ChartBox, Pager } from "./layout.tsx";
import { age, bytes, href, percent, time } from "./format.ts";
import type { PageEnv, PageResult } from "./page.ts";
import { intParam, textParam } from "./page_params.ts";
import { WebInputError } from "./web_input_error.ts";

interface CycleJson {
  cycle: number;
  partition: string;
  mode: string;
  status: string;
  started: number;
  ended: number | null;
  deleted_bytes: number;
  comment: string | null;
}
interface SiteJson {
  site: string;
  status: string;
  quota: number;
  used_before: number;
  used_after: number;
  triggered: boolean;
  still_triggered: boolean;
  protect: number;
  delete: number;
  keep: number;
  previous: { protect: number; delete: number; keep: number } | null;
}
interface SummaryJson {
  /** The cycle's record (`cycle` is its number, as the original monitor reads it). */
  cycle_record: CycleJson;
  /** 0 when there is none (the original monitor's convention). */
  previous_cycle: number;
  sites: SiteJson[];
}
interface ReplicaJson {
  dataset: string;
  decision: string;
  size: number;
  blocks: number;
  line: number;
  reason: string;
}
interface DecisionJson {
  dataset: string;
  site: string;
  decision: string;
  size: number;
  line: number;
  reason: string;
}

const PAGE = 100;
/** A search shows at most this many decisions (a pattern may match the whole inventory). */
const SEARCH_ROWS = 500;

/** `/web/detox/monitor`: a partition's latest (or a chosen) cycle, per site, with drill-down. */
export async function detoxMonitorPage(env: PageEnv): Promise<PageResult> {
  const { api, url } = env;
  const cycleId = intParam(url, "cycle");
  const site = textParam(url, "site");
  const dataset = textParam(url, "dataset");
  const offset = intParam(url, "offset", 10_000_000) ?? 0;
  const partitions = await api.get<{ partition: string; cycles: number; latest_cycle: number | null }[]>(
    "/data/detox/partitions",
  );
  const partition = textParam(url, "partition") ??
    partitions.find((p) => p.latest_cycle !== null)?.partition ?? partitions[0]?.partition;
  if (
    cycleId === undefined && !partitions.some((p) => p.partition === partition && p.latest_cycle !== null)
  ) {
    return {
      title: "Detox monitor",
      body: (
        <>
          <PartitionPicker partitions={partitions.map((p) => p.partition)} current={partition} />
          <Banner kind="info">No Detox cycle{partition ? ` of partition ${partition}` : ""} yet.</Banner>
        </>
      ),
    };
  }
  const which = cycleId !== undefined ? { cycle: cycleId } : { partition };
  const [summary, policy, recent] = await Promise.all([
    api.get<SummaryJson>("/data/detox/summary", which),
    api.get<{ text: string; hash: string }>("/data/detox/policy", which),
    api.get<CycleJson[]>("/data/detox/cycles", {
      partition: cycleId === undefined ? partition : undefined,
      limit: 10,
    }),
  ]);
  const cycle = summary.cycle_record;
  const ageSeconds = env.now() / 1000 - cycle.started;
  const stale = cycleId === undefined && ageSeconds > env.staleAfterMs / 1000;

  const sites = summary.sites;
  // Shares of each site's quota: sites of very different sizes (a tape archive beside a Tier-2) stay readable.
  const share = (n: number | undefined, quota: number) =>
    n === undefined || quota <= 0 ? null : Math.round((n / quota) * 1000) / 10;
  const stack = (label: string, key: "protect" | "keep" | "delete", color: string) => [
    {
      label: `${label} (cycle ${cycle.cycle})`,
      stack: "this",
      backgroundColor: color,
      data: sites.map((s) => share(s[key], s.quota)),
    },
    ...(summary.previous_cycle > 0
      ? [{
        label: `${label} (cycle ${summary.previous_cycle})`,
        stack: "previous",
        backgroundColor: color + "80",
        data: sites.map((s) => share(s.previous?.[key], s.quota)),
      }]
      : []),
  ];
  const chart = {
    type: "bar",
    data: {
      labels: sites.map((s) => s.site),
      datasets: [
        ...stack("protect", "protect", "#2e6da4"),
        ...stack("keep", "keep", "#8c8c8c"),
        ...stack("delete", "delete", "#c0392b"),
        {
          type: "line",
          label: "quota",
          data: sites.map((s) => (s.quota > 0 ? 100 : null)),
          borderColor: "#222",
          borderDash: [6, 4],
          pointRadius: 0,
          borderWidth: 1.5,
        },
      ],
    },
    options: {
      scales: {
        x: { stacked: true },
        y: { stacked: true, beginAtZero: true, title: { display: true, text: "% of the site's quota" } },
      },
    },
  };
  const here = { cycle: cycle.cycle };

  let detail = null;
  if (site !== undefined) {
    const page = await api.get<{ more: boolean; replicas: ReplicaJson[] }>("/data/detox/replicas", {
      ...here,
      site,
      offset,
      limit: PAGE,
    });
    detail = (
      <section id="site-detail">
        <h2>Replicas at {site} in cycle {cycle.cycle}</h2>
        {page.replicas.length === 0 ? <p>No decision at this site in this cycle.</p> : (
          <table id="replicas">
            <thead>
              <tr>
                <th>Dataset</th>
                <th>Decision</th>
                <th>Size</th>
                <th>Blocks</th>
                <th>Line</th>
                <th>Policy line</th>
              </tr>
            </thead>
            <tbody>
              {page.replicas.map((r) => (
                <tr>
                  <td class="dataset">{r.dataset}</td>
                  <td class={`decision decision-${r.decision}`}>{r.decision}</td>
                  <td class="num">{bytes(r.size)}</td>
                  <td class="num">{r.blocks}</td>
                  <td class="num">{r.line}</td>
                  <td class="reason">{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager
          prev={offset > 0
            ? href("/web/detox/monitor", { ...here, site, offset: Math.max(0, offset - PAGE) })
            : null}
          next={page.more ? href("/web/detox/monitor", { ...here, site, offset: offset + PAGE }) : null}
        />
      </section>
    );
  }

  let search = null;
  if (dataset !== undefined) {
    const found = await api.get<{ decisions: DecisionJson[] }>("/data/detox/datasets", { ...here, dataset });
    const shown = found.decisions.slice(0, SEARCH_ROWS);
    search = (
      <section id="search-results">
        <h2>Decisions about “{dataset}” in cycle {cycle.cycle}</h2>
        {shown.length === 0 ? <p id="no-decision">No decision about “{dataset}” in this cycle.</p> : (
          <table>
            <thead>
              <tr>
                <th>Dataset</th>
                <th>Site</th>
                <th>Decision</th>
                <th>Size</th>
                <th>Line</th>
                <th>Policy line</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((d) => (
                <tr>
                  <td>{d.dataset}</td>
                  <td>
                    <a href={href("/web/detox/monitor", { ...here, site: d.site })}>{d.site}</a>
                  </td>
                  <td class={`decision-${d.decision}`}>{d.decision}</td>
                  <td class="num">{bytes(d.size)}</td>
                  <td class="num">{d.line}</td>
                  <td>{d.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {found.decisions.length > shown.length
          ? <p class="muted">The first {shown.length} of {found.decisions.length}; narrow the pattern.</p>
          : null}
      </section>
    );
  }

  return {
    title: "Detox monitor",
    body: (
      <>
        <PartitionPicker partitions={partitions.map((p) => p.partition)} current={cycle.partition} />
        {stale
          ? (
            <Banner kind="warn">
              The latest cycle of {cycle.partition} started {age(ageSeconds)} ago: Detox may not be running.
            </Banner>
          )
          : null}
        <p id="cycle-info" data-cycle={String(cycle.cycle)}>
          Cycle <strong id="cycle-id">{cycle.cycle}</strong> of partition {cycle.partition} ({cycle.mode},
          {" "}
          {cycle.status}), started {time(cycle.started)}
          {cycle.ended !== null ? <>, ended {time(cycle.ended)}</> : null}; deleted{" "}
          {bytes(cycle.deleted_bytes)}
          {summary.previous_cycle > 0
            ? (
              <>
                ; previous cycle{" "}
                <a href={href("/web/detox/monitor", { cycle: summary.previous_cycle })}>
                  {summary.previous_cycle}
                </a>
              </>
            )
            : null}
          {" · "}
          <a id="download-deletions" href={href("/web/detox/deletions.txt", here)} download>deletion list</a>
        </p>
        <ChartBox
          id="detox-chart"
          config={chart}
          links={sites.map((s) => `${href("/web/detox/monitor", { ...here, site: s.site })}#site-detail`)}
          height={360}
        />
        <form class="filters" method="get" action="/web/detox/monitor">
          <input type="hidden" name="cycle" value={String(cycle.cycle)} />
          <label>
            Dataset (wildcards * and ?)
            <input type="search" name="dataset" value={dataset ?? ""} size={60} />
          </label>
          <button type="submit">Search</button>
        </form>
        {search}
        {detail}
        <h2>Sites</h2>
        <table id="detox-sites">
          <thead>
            <tr>
              <th>Site</th>
              <th>Status</th>
              <th>Quota</th>
              <th>Before</th>
              <th>After</th>
              <th>Protect</th>
              <th>Keep</th>
              <th>Delete</th>
              <th>Triggered</th>
            </tr>
          </thead>
          <tbody>
            {sites.map((s) => (
              <tr>
                <td>
                  <a
                    class="site-link"
                    href={`${href("/web/detox/monitor", { ...here, site: s.site })}#site-detail`}
                  >
                    {s.site}
                  </a>
                </td>
                <td>{s.status}</td>
                <td class="num">{bytes(s.quota)}</td>
                <td class="num">
                  {bytes(s.used_before)} ({percent(s.quota ? s.used_before / s.quota : null)})
                </td>
                <td class="num">
                  {bytes(s.used_after)} ({percent(s.quota ? s.used_after / s.quota : null)})
                </td>
                <td class="num">{bytes(s.protect)}</td>
                <td class="num">{bytes(s.keep)}</td>
                <td class="num">{bytes(s.delete)}</td>
                <td class={s.still_triggered ? "alarm" : ""}>
                  {s.still_triggered ? "still above" : s.triggered ? "yes" : "no"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>Recent cycles</h2>
        <ul>
          {recent.map((c) => (
            <li>
              <a href={href("/web/detox/monitor", { cycle: c.cycle })}>{c.cycle}</a> {c.partition} {c.mode}
              {" "}
              {c.status} {time(c.started)} deleted {bytes(c.deleted_bytes)}
            </li>
          ))}
        </ul>
        <details>
          <summary>Policy of cycle {cycle.cycle} ({policy.hash.slice(0, 12)})</summary>
          <pre class="policy" id="policy-text">{policy.text}</pre>
        </details>
      </>
    ),
  };
}

function PartitionPicker(props: { partitions: string[]; current: string | undefined }) {
  return (
    <form class="filters" method="get" action="/web/detox/monitor">
      <label>
        Partition
        <select name="partition">
          {props.partitions.map((p) => <option value={p} selected={p === props.current}>{p}</option>)}
        </select>
      </label>
      <button type="submit">Show latest cycle</button>
    </form>
  );
}

/** The deletion list of a cycle as text: one `dataset site bytes line` per deleted replica. */
export async function detoxDeletions(env: PageEnv): Promise<string> {
  const cycle = intParam(env.url, "cycle");
  if (cycle === undefined) throw new WebInputError(`Parameter "cycle": is required`);
  const found = await env.api.get<{ decisions: DecisionJson[] }>("/data/detox/datasets", {
    cycle,
    dataset: "*",
  });
  const lines = found.decisions.filter((d) => d.decision === "delete").map((d) =>
    `${d.dataset}\t${d.site}\t${d.size}\t${d.line}`
  );
  return `# Deletions of Detox cycle ${cycle}: dataset, site, bytes, policy line\n${lines.join("\n")}${
    lines.length ? "\n" : ""
  }`;
}
