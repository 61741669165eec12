/** @jsxImportSource hono/jsx */
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, so no keys
import { Banner, Pager } from "./layout.tsx";
import { bytes, href, time } from "./format.ts";
import type { PageEnv, PageResult } from "./page.ts";
import { intParam, oneOf, textParam } from "./page_params.ts";
import { WebInputError } from "./web_input_error.ts";

interface ActionJson {
  item: string;
  site: string;
  status: string;
  updated: number;
  reason?: string;
}
export interface RequestJson {
  request_id: number;
  item: string[];
  site: string[];
  status: string;
  user: string;
  first_request: number;
  last_request: number;
  request_count: number;
  reason: string | null;
  active: ActionJson[];
  group?: string | null;
  n?: number;
}
export interface FileJson {
  id: number;
  kind: string;
  lfn: string;
  block: string;
  size: number;
  source: string | null;
  site: string;
  status: string;
  task_state: string | null;
  hold_reason: string | null;
  attempts: number;
  last_error: string | null;
}

const KINDS = ["copy", "deletion"] as const;
const STATUSES = ["new", "activated", "completed", "rejected", "cancelled", "failed"] as const;
const PAGE = 100;
const FILE_PAGE = 200;

const poll = (kind: "copy" | "deletion") =>
  kind === "copy" ? "/data/request/pollcopy" : "/data/request/polldelete";

/** `/web/requests`: copy and deletion requests with filters. */
export async function requestsPage(env: PageEnv): Promise<PageResult> {
  const { url } = env;
  const kind = oneOf(url, "kind", KINDS) ?? "copy";
  const status = oneOf(url, "status", STATUSES);
  const user = textParam(url, "user");
  const item = textParam(url, "item");
  const site = textParam(url, "site");
  const offset = intParam(url, "offset", 10_000_000) ?? 0;
  const all = await env.api.get<RequestJson[]>(poll(kind), { status, user, item, site, all: true });
  const rows = [...all].sort((a, b) => b.request_id - a.request_id).slice(offset, offset + PAGE);
  const filters = { kind, status, user, item, site };
  return {
    title: "Requests",
    body: (
      <>
        <form class="filters" method="get" action="/web/requests">
          <label>
            Kind
            <select name="kind">
              {KINDS.map((k) => <option value={k} selected={k === kind}>{k}</option>)}
            </select>
          </label>
          <label>
            Status
            <select name="status">
              <option value="">any</option>
              {STATUSES.map((s) => <option value={s} selected={s === status}>{s}</option>)}
            </select>
          </label>
          <label>
            User<input name="user" value={user ?? ""} />
          </label>
          <label>
            Item<input name="item" value={item ?? ""} size={40} />
          </label>
          <label>
            Site<input name="site" value={site ?? ""} />
          </label>
          <button type="submit">Filter</button>
        </form>
        <p>{all.length} {kind} request{all.length === 1 ? "" : "s"}</p>
        {env.ctx.user === null
          ? <p class="muted">Sign in (top right) to make a copy or deletion request.</p>
          : (["copy", "deletion"] as const).map((k) => (
            <form method="post" action={`/web/requests/new/${k}`} id={`new-${k}`} class="filters">
              <input type="hidden" name="csrf" value={env.ctx.csrf ?? ""} />
              <label>
                Item<input name="item" size={50} required />
              </label>
              <label>
                Site<input name="site" required={k === "deletion"} />
              </label>
              <button type="submit">{k === "copy" ? "Request a copy" : "Request a deletion"}</button>
            </form>
          ))}
        <table id="requests">
          <thead>
            <tr>
              <th>Id</th>
              <th>Status</th>
              <th>User</th>
              <th>Items</th>
              <th>Sites</th>
              <th>Actions</th>
              <th>Created</th>
              <th>Reason</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr>
                <td>
                  <a class="request-link" href={`/web/requests/${kind}/${r.request_id}`}>{r.request_id}</a>
                </td>
                <td>{r.status}</td>
                <td>{r.user}</td>
                <td>{r.item.join(", ")}</td>
                <td>{r.site.join(", ")}</td>
                <td>{r.active.map((a) => `${a.site}: ${a.status}`).join("; ")}</td>
                <td>{time(r.first_request)}</td>
                <td>{r.reason ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Pager
          prev={offset > 0 ? href("/web/requests", { ...filters, offset: Math.max(0, offset - PAGE) }) : null}
          next={offset + PAGE < all.length
            ? href("/web/requests", { ...filters, offset: offset + PAGE })
            : null}
        />
      </>
    ),
  };
}

/** How a file operation stands, in words an operator reads (pure). */
export function fileState(f: FileJson): string {
  switch (f.status) {
    case "new":
      return "waiting";
    case "inbatch":
      return f.task_state ?? "queued";
    case "retry":
      return `failed, retrying (attempt ${f.attempts})`;
    case "held":
      return `held: ${f.hold_reason ?? "unknown reason"}`;
    default:
      return f.status;
  }
}

/** Why a request is where it is, from its own state and its files' (pure). */
export function whyRequest(r: RequestJson, counts: Map<string, number>, files: FileJson[]): string[] {
  const why: string[] = [];
  if (r.reason) why.push(`The request: ${r.reason}.`);
  if (r.status === "new") why.push("The Dealer has not looked at it yet (it does at its next cycle).");
  for (const a of r.active) {
    why.push(`${a.item} at ${a.site}: ${a.status}${a.reason ? ` (${a.reason})` : ""}.`);
  }
  const held = files.filter((f) => f.status === "held");
  if (held.length > 0) {
    const reasons = [...new Set(held.map((f) => f.hold_reason ?? "unknown"))].join(", ");
    why.push(
      `${held.length} file(s) on this page are held (${reasons}): they wait for an operator to release them.`,
    );
  }
  const failing = files.filter((f) => f.last_error && f.status !== "done");
  if (failing.length > 0) {
    why.push(`${failing.length} file(s) failed at least once; the last error: ${failing[0]!.last_error}.`);
  }
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total > 0 && counts.get("done") === total) why.push("Every file operation is done.");
  return why;
}

/** `/web/requests/:kind/:id`: a request, every file's state and last error, and why it is where it is. */
export async function requestPage(env: PageEnv): Promise<PageResult> {
  const parts = env.url.pathname.split("/");
  const kind = parts[3];
  const idText = parts[4] ?? "";
  if (kind !== "copy" && kind !== "deletion") {
    throw new WebInputError(`No such kind of request: ${JSON.stringify(kind)}`);
  }
  if (!/^\d{1,15}$/.test(idText)) {
    throw new WebInputError(`Not a request id: ${JSON.stringify(idText.slice(0, 50))}`);
  }
  const offset = intParam(env.url, "offset", 10_000_000) ?? 0;
  const [r] = await env.api.get<RequestJson[]>(poll(kind), { request_id: idText, all: true });
  if (!r) {
    return { title: "Request", body: <Banner kind="error">No {kind} request {idText}.</Banner>, status: 404 };
  }
  const sections = [];
  const counts = new Map<string, number>();
  const allFiles: FileJson[] = [];
  for (const a of r.active) {
    const [dataset, block] = a.item.split("#");
    const page = await env.api.get<{ more: boolean; files: FileJson[] }>("/data/transfers/files", {
      dataset: dataset!,
      site: a.site,
      kind,
      offset,
      limit: FILE_PAGE,
    });
    const files = block === undefined
      ? page.files
      : page.files.filter((f) => f.block === `${dataset}#${block}`);
    for (const f of files) counts.set(f.status, (counts.get(f.status) ?? 0) + 1);
    allFiles.push(...files);
    sections.push(
      <section class="action">
        <h2>{a.item} at {a.site}: {a.status}</h2>
        {files.length === 0
          ? (
            <p class="muted">
              {a.status === "completed"
                ? `Complete: every file is at ${a.site}; finished operations are in the transfer history.`
                : `No file operation for it${a.status === "new" ? " yet" : ""}.`}
            </p>
          )
          : (
            <table class="files" data-site={a.site}>
              <thead>
                <tr>
                  <th>File</th>
                  <th>State</th>
                  <th>Source</th>
                  <th>Size</th>
                  <th>Attempts</th>
                  <th>Last error</th>
                </tr>
              </thead>
              <tbody>
                {files.map((f) => (
                  <tr data-lfn={f.lfn} data-status={f.status}>
                    <td>{f.lfn}</td>
                    <td class="state">{fileState(f)}</td>
                    <td>{f.source ?? ""}</td>
                    <td class="num">{bytes(f.size)}</td>
                    <td class="num">{f.attempts}</td>
                    <td>{f.last_error ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        <Pager
          prev={offset > 0 ? href(env.url.pathname, { offset: Math.max(0, offset - FILE_PAGE) }) : null}
          next={page.more ? href(env.url.pathname, { offset: offset + FILE_PAGE }) : null}
        />
      </section>,
    );
  }
  return {
    title: `${kind === "copy" ? "Copy" : "Deletion"} request ${r.request_id}`,
    body: (
      <>
        <table id="request">
          <tbody>
            <tr>
              <th>Status</th>
              <td id="request-status">{r.status}</td>
            </tr>
            <tr>
              <th>User</th>
              <td>{r.user}</td>
            </tr>
            <tr>
              <th>Items</th>
              <td>{r.item.join(", ")}</td>
            </tr>
            <tr>
              <th>Sites</th>
              <td>{r.site.join(", ") || "any"}</td>
            </tr>
            {r.n !== undefined
              ? (
                <tr>
                  <th>Copies</th>
                  <td>{r.n}</td>
                </tr>
              )
              : null}
            <tr>
              <th>Created</th>
              <td>{time(r.first_request)} (asked {r.request_count} time(s), last {time(r.last_request)})</td>
            </tr>
            <tr>
              <th>Files</th>
              <td>{[...counts].map(([s, n]) => `${n} ${s}`).join(", ") || "none"}</td>
            </tr>
          </tbody>
        </table>
        {kind === "copy" && r.status === "new" && env.ctx.user !== null
          ? (
            <form method="post" action="/web/requests/cancelcopy" id="cancel-form">
              <input type="hidden" name="csrf" value={env.ctx.csrf ?? ""} />
              <input type="hidden" name="request_id" value={String(r.request_id)} />
              <button type="submit" id="cancel">Cancel this request</button>
            </form>
          )
          : null}
        <h2>Why it is where it is</h2>
        <ul id="why">{whyRequest(r, counts, allFiles).map((w) => <li>{w}</li>)}</ul>
        {sections}
      </>
    ),
  };
}
