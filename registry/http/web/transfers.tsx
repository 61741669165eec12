/** @jsxImportSource hono/jsx */
import { Banner, ChartBox } from "./layout.tsx";
import { bytes, href } from "./format.ts";
import type { PageEnv, PageResult } from "./page.ts";
import { intParam } from "./page_params.ts";
import { WebInputError } from "./web_input_error.ts";
import type { FileJson } from "./requests.tsx";
import { fileState } from "./requests.tsx";

const CURRENT_ROWS = 500;
const HELD_ROWS = 500;

/** `/web/transfers/monitor`: file operations queued or in flight, per destination and state. */
export async function transfersMonitorPage(env: PageEnv): Promise<PageResult> {
  const rows = await env.api.get<FileJson[]>("/data/transfers/current", { limit: CURRENT_ROWS });
  const states = ["waiting", "queued", "staging", "active", "retrying"];
  const stateOf = (f: FileJson) => {
    const s = fileState(f);
    return s.startsWith("failed") ? "retrying" : s;
  };
  const sites = [...new Set(rows.map((r) => r.site))].sort();
  const chart = {
    type: "bar",
    data: {
      labels: sites,
      datasets: states.map((s, i) => ({
        label: s,
        stack: "files",
        backgroundColor: ["#bbb", "#7fa7cf", "#c9a23f", "#3b78b0", "#c0392b"][i],
        data: sites.map((site) => rows.filter((r) => r.site === site && stateOf(r) === s).length),
      })),
    },
    options: {
      scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "files" } } },
    },
  };
  return {
    title: "Transfers and deletions in progress",
    body: (
      <>
        <p>
          {rows.length === CURRENT_ROWS ? `The first ${CURRENT_ROWS}` : rows.length}{" "}
          file operation(s) queued or in flight. Finished ones are in the transfer history
          (<a href="/data/transfers/history">JSON</a>).
        </p>
        {rows.length > 0 ? <ChartBox id="transfers-chart" config={chart} height={260} /> : null}
        <table id="current">
          <thead>
            <tr>
              <th>Id</th>
              <th>Kind</th>
              <th>File</th>
              <th>From</th>
              <th>To / at</th>
              <th>Size</th>
              <th>State</th>
              <th>Attempts</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr>
                <td class="num">{r.id}</td>
                <td>{r.kind}</td>
                <td>{r.lfn}</td>
                <td>{r.source ?? ""}</td>
                <td>{r.site}</td>
                <td class="num">{bytes(r.size)}</td>
                <td>{fileState(r)}</td>
                <td class="num">{r.attempts}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </>
    ),
  };
}

interface HeldSummaryJson {
  site: string;
  kind: string;
  reason: string;
  files: number;
  bytes: number;
}

/** `/web/transfers/held`: held file operations by reason, with their files, and release after sign-in. */
export async function heldPage(env: PageEnv): Promise<PageResult> {
  const [summary, detail] = await Promise.all([
    env.api.get<HeldSummaryJson[]>("/data/transfers/held/summary"),
    env.api.get<FileJson[]>("/data/transfers/held/detail", { limit: HELD_ROWS }),
  ]);
  const released = intParam(env.url, "released");
  const csrf = env.ctx.csrf ?? "";
  return {
    title: "Held transfers",
    body: (
      <>
        {released !== undefined
          ? <Banner kind="info">Released {released} held file operation(s).</Banner>
          : null}
        {env.ctx.user === null ? <p class="muted">Sign in (top right) to release held transfers.</p> : null}
        <h2>By site and reason</h2>
        <table id="held-summary">
          <thead>
            <tr>
              <th>Site</th>
              <th>Kind</th>
              <th>Reason</th>
              <th>Files</th>
              <th>Volume</th>
            </tr>
          </thead>
          <tbody>
            {summary.map((s) => (
              <tr>
                <td>{s.site}</td>
                <td>{s.kind}</td>
                <td>{s.reason}</td>
                <td class="num">{s.files}</td>
                <td class="num">{bytes(s.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <h2>Files</h2>
        {detail.length === 0
          ? <p id="no-held">Nothing is held.</p>
          : (
            <form method="post" action="/web/transfers/held/release" id="release-form">
              <input type="hidden" name="csrf" value={csrf} />
              <table id="held">
                <thead>
                  <tr>
                    <th></th>
                    <th>Id</th>
                    <th>Kind</th>
                    <th>File</th>
                    <th>Site</th>
                    <th>Reason</th>
                    <th>Attempts</th>
                    <th>Last error</th>
                  </tr>
                </thead>
                <tbody>
                  {detail.map((f) => (
                    <tr data-id={String(f.id)}>
                      <td>
                        <input
                          type="checkbox"
                          name="id"
                          value={String(f.id)}
                          aria-label={`release ${f.id}`}
                        />
                      </td>
                      <td class="num">{f.id}</td>
                      <td>{f.kind}</td>
                      <td>{f.lfn}</td>
                      <td>{f.site}</td>
                      <td>{f.hold_reason ?? ""}</td>
                      <td class="num">{f.attempts}</td>
                      <td>{f.last_error ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <button type="submit" id="release">Release the selected</button>{" "}
              <button type="submit" name="all" value="y" id="release-all">Release all</button>
            </form>
          )}
      </>
    ),
  };
}

/** POST /web/transfers/held/release (signed in, CSRF-checked by the caller): through the REST API as the user. */
export async function releaseHeld(env: PageEnv, form: Record<string, string | string[]>): Promise<string> {
  const ids = Array.isArray(form.id) ? form.id : form.id === undefined ? [] : [form.id];
  const all = form.all === "y";
  if (!all && ids.length === 0) throw new WebInputError("Select the held file operations to release");
  for (const id of ids) {
    if (!/^\d{1,15}$/.test(id)) throw new WebInputError(`Not an id: ${JSON.stringify(id.slice(0, 50))}`);
  }
  const r = await env.api.post<{ released: number }>(
    "/data/transfers/release",
    all ? { all: "y" } : { id: ids },
    env.session!.token,
  );
  return href("/web/transfers/held", { released: r.released });
}
