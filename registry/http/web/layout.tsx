/** @jsxImportSource hono/jsx */
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, so no keys
import type { Child } from "hono/jsx";
import { raw } from "hono/html";
import { scriptJson } from "./format.ts";
import { ASSETS } from "./assets.ts";

export interface PageContext {
  /** The signed-in user, if any. */
  user: string | null;
  /** The session's CSRF token (forms that act carry it). */
  csrf: string | null;
  /** The path and query of this page (the sign-in form comes back here). */
  here: string;
  refreshMs: number;
}

const NAV: [string, string][] = [
  ["/web/", "Overview"],
  ["/web/detox/monitor", "Detox"],
  ["/web/dealer/monitor", "Dealer"],
  ["/web/requests", "Requests"],
  ["/web/transfers/monitor", "Transfers"],
  ["/web/transfers/held", "Held"],
  ["/web/transfers/activity", "Transfer activity"],
  ["/web/deletions/activity", "Deletion activity"],
  ["/web/detox/locks", "Locks"],
  ["/web/scheduler", "Scheduler"],
  ["/web/consistency", "Consistency"],
];

/**
 * The frame of every page. `<main>` is what the page's script swaps when the
 * page changes on the server (polling); everything the server shows is a JSX
 * child or attribute, so Hono escapes it.
 */
export function Layout(props: { title: string; ctx: PageContext; children: Child }) {
  const { ctx } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title} · Dynamo</title>
        <link rel="stylesheet" href={ASSETS.css} />
        <link rel="icon" href="data:," />
        <script src={ASSETS.chart} defer></script>
        <script src={ASSETS.js} defer></script>
      </head>
      <body data-refresh-ms={String(ctx.refreshMs)}>
        <header>
          <strong>Dynamo</strong>
          <nav>
            {NAV.map(([path, label]) => <a href={path}>{label}</a>)}
          </nav>
          <SignIn ctx={ctx} />
        </header>
        <main id="main">
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

function SignIn(props: { ctx: PageContext }) {
  const { ctx } = props;
  if (ctx.user !== null) {
    return (
      <form class="signin" method="post" action="/web/signout">
        <input type="hidden" name="csrf" value={ctx.csrf ?? ""} />
        <span id="signed-in-user">{ctx.user}</span> <button type="submit">Sign out</button>
      </form>
    );
  }
  return (
    <form class="signin" method="post" action="/web/signin">
      <input type="hidden" name="next" value={ctx.here} />
      <input type="password" name="token" placeholder="API token" autocomplete="off" required />
      <button type="submit">Sign in</button>
    </form>
  );
}

/** Data for the page's script (charts), as inert JSON that no string in it can break out of. */
export function DataBlock(props: { id: string; value: unknown }) {
  return <script type="application/json" id={props.id}>{raw(scriptJson(props.value))}</script>;
}

/** A chart drawn by the page's script from the JSON block `config`. */
export function ChartBox(props: { id: string; config: unknown; links?: string[]; height?: number }) {
  return (
    <div class="chart" style={`height:${props.height ?? 320}px`}>
      <canvas id={props.id} data-chart={`${props.id}-config`} />
      <DataBlock id={`${props.id}-config`} value={{ config: props.config, links: props.links ?? null }} />
    </div>
  );
}

export function Banner(props: { kind: "warn" | "error" | "info"; children: Child }) {
  return <div class={`banner ${props.kind}`} role="status">{props.children}</div>;
}

/** Previous/next links of a paged list. */
export function Pager(props: { prev: string | null; next: string | null }) {
  return (
    <p class="pager">
      {props.prev ? <a href={props.prev} rel="prev">« previous</a> : null}{" "}
      {props.next ? <a href={props.next} rel="next">next »</a> : null}
    </p>
  );
}
