/** @jsxImportSource hono/jsx */
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, so no keys
import { Banner, Pager } from "./layout.tsx";
import { bytes, href, time } from "./format.ts";
import type { PageEnv, PageResult } from "./page.ts";
import { intParam, oneOf, textParam } from "./page_params.ts";
import { WebInputError } from "./web_input_error.ts";

/** A site's latest run, as `/data/consistency/summary` answers it (docs/consistency.md). */
export interface ConsistencyRunJson {
  run_id: number;
  site: string;
  started: number;
  duration_s: number;
  complete: boolean;
  dry_run: boolean;
  files_listed: number;
  missing: number;
  orphan: number;
  corrupt: number;
  unrecoverable: number;
  confirmed: number;
  acted: number;
  flagged: boolean;
  flag_reasons: string[];
  failed_dirs: { dir: string; reason: string; attempts: number }[];
}

interface FindingJson {
  kind: string;
  path: string;
  size: number | null;
  listed_size: number | null;
  lfn: string | null;
  dataset: string | null;
  confirmed: boolean;
  action: string | null;
  outcome: string | null;
  detail: string | null;
}

const KINDS = ["missing", "orphan", "corrupt", "unmanaged", "empty_dir", "hostile"] as const;
const PAGE = 200;

const duration = (s: number) => (s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`);

/** `/web/consistency`: every site's latest consistency run; `?site=NAME`: its findings, a page at a time. */
export async function consistencyPage(env: PageEnv): Promise<PageResult> {
  const site = textParam(env.url, "site");
  if (site !== undefined) return await sitePage(env, site);
  const runs = await env.api.get<ConsistencyRunJson[]>("/data/consistency/summary");
  return {
    title: "Site consistency",
    body: (
      <>
        <p>
          The latest check of each site (<a href="/data/consistency/summary">JSON</a>). A site is flagged when
          a check found more than its thresholds allow: then nothing was acted on.
        </p>
        {runs.length === 0
          ? <p class="muted" id="consistency">No site has been checked yet.</p>
          : (
            <table id="consistency">
              <thead>
                <tr>
                  <th>Site</th>
                  <th>Last run</th>
                  <th>Complete</th>
                  <th>Duration</th>
                  <th>Files listed</th>
                  <th>Missing</th>
                  <th>Orphan</th>
                  <th>Corrupt</th>
                  <th>Unrecoverable</th>
                  <th>Confirmed</th>
                  <th>Acted on</th>
                  <th>Flagged</th>
                </tr>
              </thead>
              <tbody>
                {[...runs].sort((a, b) => a.site.localeCompare(b.site)).map((r) => (
                  <tr data-site={r.site}>
                    <td>
                      <a class="site-link" href={href("/web/consistency", { site: r.site })}>{r.site}</a>
                    </td>
                    <td>{time(r.started)}{r.dry_run ? " (dry run)" : ""}</td>
                    <td class={r.complete ? "" : "alarm"}>
                      {r.complete
                        ? "yes"
                        : `no: ${r.failed_dirs.length} director${
                          r.failed_dirs.length === 1 ? "y" : "ies"
                        } unlisted`}
                    </td>
                    <td class="num">{duration(r.duration_s)}</td>
                    <td class="num">{r.files_listed}</td>
                    <td class="num">{r.missing}</td>
                    <td class="num">{r.orphan}</td>
                    <td class="num">{r.corrupt}</td>
                    <td class="num">{r.unrecoverable}</td>
                    <td class="num">{r.confirmed}</td>
                    <td class="num">{r.acted}</td>
                    <td class={r.flagged ? "alarm" : ""}>
                      {r.flagged ? `yes: ${r.flag_reasons.join("; ")}` : "no"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
      </>
    ),
  };
}

async function sitePage(env: PageEnv, site: string): Promise<PageResult> {
  const kind = oneOf(env.url, "kind", KINDS);
  const offset = intParam(env.url, "offset", 10_000_000) ?? 0;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/.test(site)) {
    throw new WebInputError(`Not a site name: ${JSON.stringify(site.slice(0, 100))}`);
  }
  const page = await env.api.get<{ run: ConsistencyRunJson; total: number; findings: FindingJson[] }>(
    "/data/consistency/site",
    { site, kind, offset, limit: PAGE },
  );
  const r = page.run;
  const self = (o: number) => href("/web/consistency", { site, kind, offset: o });
  return {
    title: `Consistency of ${site}`,
    body: (
      <>
        <p>
          <a href="/web/consistency">All sites</a> · run {r.run_id} started {time(r.started)},{" "}
          {duration(r.duration_s)}, {r.complete ? "complete" : "incomplete"}
          {r.dry_run ? ", dry run" : ""}: {r.files_listed} files listed, {r.missing} missing, {r.orphan}{" "}
          orphan, {r.corrupt} corrupt, {r.unrecoverable} unrecoverable; {r.confirmed} confirmed, {r.acted}
          {" "}
          acted on.
        </p>
        {r.flagged ? <Banner kind="warn">Flagged: {r.flag_reasons.join("; ")}</Banner> : null}
        {r.failed_dirs.length > 0
          ? (
            <ul id="failed-dirs">
              {r.failed_dirs.map((d) => <li>{d.dir}: {d.reason} ({d.attempts} attempt(s))</li>)}
            </ul>
          )
          : null}
        <form class="filters" method="get" action="/web/consistency">
          <input type="hidden" name="site" value={site} />
          <label>
            Kind
            <select name="kind">
              <option value="">any</option>
              {KINDS.map((k) => <option value={k} selected={k === kind}>{k}</option>)}
            </select>
          </label>
          <button type="submit">Filter</button>
        </form>
        <p>{page.total} finding(s)</p>
        <table id="findings">
          <thead>
            <tr>
              <th>Kind</th>
              <th>Path</th>
              <th>Size</th>
              <th>Listed size</th>
              <th>Dataset</th>
              <th>Confirmed</th>
              <th>Action</th>
              <th>Outcome</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {page.findings.map((f) => (
              <tr data-kind={f.kind}>
                <td>{f.kind}</td>
                <td>{f.path}</td>
                <td class="num">{f.size === null ? "" : bytes(f.size)}</td>
                <td class="num">{f.listed_size === null ? "" : bytes(f.listed_size)}</td>
                <td>{f.dataset ?? ""}</td>
                <td>{f.confirmed ? "yes" : "no"}</td>
                <td>{f.action ?? ""}</td>
                <td>{f.outcome ?? ""}</td>
                <td>{f.detail ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pager
          prev={offset > 0 ? self(Math.max(0, offset - PAGE)) : null}
          next={offset + PAGE < page.total ? self(offset + PAGE) : null}
        />
      </>
    ),
  };
}
