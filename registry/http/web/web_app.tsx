/** @jsxImportSource hono/jsx */
import { type Context, Hono } from "hono";
import { getLogger } from "@logtape/logtape";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../context.ts";
import { ApiClient, ApiError } from "./api_client.ts";
import { asset } from "./assets.ts";
import { WebInputError } from "./web_input_error.ts";
import type { Page, PageEnv, WebDeps } from "./page.ts";
import { Banner, Layout } from "./layout.tsx";
import { sameSecret, SESSION_COOKIE, Sessions } from "./session.ts";
import { overviewPage } from "./overview.tsx";
import { detoxDeletions, detoxMonitorPage } from "./detox_monitor.tsx";
import { requestPage, requestsPage } from "./requests.tsx";
import { heldPage, releaseHeld, transfersMonitorPage } from "./transfers.tsx";
import { locksPage } from "./locks.tsx";
import { consistencyPage } from "./consistency.tsx";
import { cancelCopy, createLock, makeRequest, removeLock } from "./form_actions.ts";
import { schedulerPage } from "./scheduler.tsx";
import { dealerMonitorPage } from "./dealer_monitor.tsx";
import { activityPage } from "./activity.tsx";

export interface WebOptions {
  /** Whether /web/ is served (default true). */
  enabled?: boolean;
  /** How often a page asks the server whether it changed (default 10 s; 0: never). */
  refreshMs?: number;
  /** A Detox or Dealer cycle older than this is stale: a banner and an alarm (default 8 h). */
  staleAfterMs?: number;
  /** How long a sign-in lasts (default 8 h). */
  sessionMs?: number;
}

/**
 * Mounts the monitor on the registry app: one handler for `/web/*` (the
 * monitor is a separate Hono app that calls the registry's REST API in
 * process), so the REST routes stay what OpenAPI documents.
 */
export function mountWeb(
  app: Hono<AppEnv>,
  options: WebOptions & { now: () => number },
): void {
  if (options.enabled === false) return;
  const web = createWebApp({
    api: new ApiClient((r) => app.fetch(r)),
    now: options.now,
    staleAfterMs: options.staleAfterMs ?? 8 * 3600_000,
    refreshMs: options.refreshMs ?? 10_000,
    sessionMs: options.sessionMs ?? 8 * 3600_000,
  });
  app.all("/web", (c) => c.redirect("/web/", 301));
  app.all("/web/*", (c) => web.fetch(c.req.raw));
}

const log = getLogger(["dynamo", "web"]);

const SECURITY_HEADERS: Record<string, string> = {
  // Scripts only from the registry itself: a string that slipped through escaping could still not run.
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "same-origin",
};

export function createWebApp(
  deps: WebDeps & { refreshMs: number; sessionMs: number },
): Hono {
  const web = new Hono();
  const sessions = new Sessions(deps.sessionMs);
  // Sessions expire on the service clock (DESIGN.md §2.3: no wall clock outside the composition root).
  const sessionNow = deps.now;

  web.use("*", async (c, next) => {
    await next();
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) c.header(k, v);
  });

  const sessionOf = (c: Context) => sessions.get(getCookie(c, SESSION_COOKIE), sessionNow());

  const envOf = (c: Context): PageEnv => {
    const session = sessionOf(c);
    const url = new URL(c.req.url);
    return {
      ...deps,
      session,
      url,
      ctx: {
        user: session?.user ?? null,
        csrf: session?.csrf ?? null,
        here: url.pathname + url.search,
        refreshMs: deps.refreshMs,
      },
    };
  };

  const render = (page: Page) => async (c: Context) => {
    const env = envOf(c);
    c.header("Cache-Control", "no-store");
    try {
      const { title, body, status } = await page(env);
      // A page that is not there (404) is not asked for again.
      const ctx = (status ?? 200) >= 400 ? { ...env.ctx, refreshMs: 0 } : env.ctx;
      return c.html(<Layout title={title} ctx={ctx}>{body}</Layout>, (status ?? 200) as 200);
    } catch (e) {
      const status = e instanceof ApiError ? e.status : 500;
      const message = e instanceof ApiError || e instanceof WebInputError ? e.message : "Internal error";
      if (!(e instanceof ApiError) && !(e instanceof WebInputError)) {
        log.error("Unhandled error in {path}: {error}", { path: env.url.pathname, error: String(e) });
      }
      return c.html(
        <Layout title="Error" ctx={{ ...env.ctx, refreshMs: 0 }}>
          <Banner kind="error">{message}</Banner>
        </Layout>,
        (e instanceof WebInputError ? 400 : status >= 400 && status < 600 ? status : 500) as 400,
      );
    }
  };

  web.get("/web/assets/:name", async (c) => {
    const a = await asset(new URL(c.req.url).pathname);
    if (!a) return c.text("No such asset", 404);
    c.header("Content-Type", a.type);
    c.header("Cache-Control", "public, max-age=31536000, immutable");
    return c.body(a.body as Uint8Array<ArrayBuffer>);
  });

  /** A form post must come from our own pages: same origin (when the browser says), and for actions the session's CSRF token. */
  const sameOrigin = (c: Context) => {
    const origin = c.req.header("Origin");
    return origin === undefined || origin === new URL(c.req.url).origin;
  };

  web.post("/web/signin", async (c) => {
    if (!sameOrigin(c)) return c.text("Cross-origin sign-in refused", 403);
    const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const next = safeNext(form.next);
    const user = /^[\x21-\x7e]{1,512}$/.test(token) ? await deps.api.whoami(token) : null;
    if (user === null) {
      const env = envOf(c);
      return c.html(
        <Layout title="Sign in" ctx={{ ...env.ctx, here: next, refreshMs: 0 }}>
          <Banner kind="error">Unknown or revoked token: not signed in</Banner>
        </Layout>,
        401,
      );
    }
    const old = getCookie(c, SESSION_COOKIE);
    sessions.close(old);
    const session = sessions.open(token, user, sessionNow());
    setCookie(c, SESSION_COOKIE, session.id, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/web",
      secure: new URL(c.req.url).protocol === "https:",
      maxAge: Math.floor(deps.sessionMs / 1000),
    });
    return c.redirect(next, 303);
  });

  web.post("/web/signout", async (c) => {
    const session = sessionOf(c);
    const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
    if (session && sameOrigin(c) && typeof form.csrf === "string" && sameSecret(form.csrf, session.csrf)) {
      sessions.close(session.id);
    }
    deleteCookie(c, SESSION_COOKIE, { path: "/web" });
    return c.redirect("/web/", 303);
  });

  /** An action: a session, same origin and its CSRF token, or 401/403 and nothing done. */
  const action = (
    back: string,
    handler: (env: PageEnv, form: Record<string, string | string[]>) => Promise<string>,
  ) =>
  async (c: Context) => {
    // The page the form was on: where signing in from a refusal leads back to.
    const env = { ...envOf(c) };
    // The answer to a POST is not a page to poll.
    env.ctx = { ...env.ctx, here: back, refreshMs: 0 };
    const refuse = (status: 401 | 403, message: string) =>
      c.html(
        <Layout title="Not allowed" ctx={env.ctx}>
          <Banner kind="error">{message}</Banner>
          <p>
            <a href={back}>Back</a>
          </p>
        </Layout>,
        status,
      );
    if (!env.session) return refuse(401, "Sign in with a token to do this: nothing was changed");
    if (!sameOrigin(c)) return refuse(403, "Cross-origin request refused: nothing was changed");
    const raw = await c.req.parseBody({ all: true }).catch(() => ({} as Record<string, unknown>));
    const form: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v === "string") form[k] = v;
      else if (Array.isArray(v)) form[k] = v.filter((x): x is string => typeof x === "string");
    }
    const csrf = form.csrf;
    if (typeof csrf !== "string" || !sameSecret(csrf, env.session.csrf)) {
      return refuse(403, "The form is stale or forged (CSRF token mismatch): nothing was changed");
    }
    try {
      return c.redirect(await handler(env, form), 303);
    } catch (e) {
      if (e instanceof ApiError || e instanceof WebInputError) {
        return c.html(
          <Layout title="Refused" ctx={env.ctx}>
            <Banner kind="error">{e.message}</Banner>
          </Layout>,
          (e instanceof ApiError ? e.status : 400) as 400,
        );
      }
      throw e;
    }
  };

  web.get("/web/", render(overviewPage));
  web.get("/web/detox/monitor", render(detoxMonitorPage));
  web.get("/web/detox/deletions.txt", async (c) => {
    const env = envOf(c);
    try {
      const text = await detoxDeletions(env);
      c.header("Content-Disposition", "attachment");
      return c.text(text);
    } catch (e) {
      if (e instanceof ApiError) return c.text(e.message, e.status as 404);
      if (e instanceof WebInputError) return c.text(e.message, 400);
      throw e;
    }
  });
  web.get("/web/detox/locks", render(locksPage));
  web.get("/web/dealer/monitor", render(dealerMonitorPage));
  web.get("/web/requests", render(requestsPage));
  web.get("/web/requests/:kind/:id", render(requestPage));
  web.get("/web/transfers/monitor", render(transfersMonitorPage));
  web.get("/web/transfers/held", render(heldPage));
  web.get("/web/transfers/activity", render(activityPage("transfers")));
  web.get("/web/deletions/activity", render(activityPage("deletions")));
  web.post("/web/transfers/held/release", action("/web/transfers/held", releaseHeld));
  web.get("/web/scheduler", render(schedulerPage));
  web.get("/web/consistency", render(consistencyPage));
  web.post("/web/detox/locks/lock", action("/web/detox/locks", createLock));
  web.post("/web/detox/locks/unlock", action("/web/detox/locks", removeLock));
  web.post("/web/requests/new/copy", action("/web/requests", makeRequest("copy")));
  web.post("/web/requests/new/deletion", action("/web/requests", makeRequest("deletion")));
  web.post("/web/requests/cancelcopy", action("/web/requests", cancelCopy));

  web.notFound((c) =>
    render(() => Promise.resolve({ title: "Not found", body: <p>No such page.</p>, status: 404 }))(c)
  );
  return web;
}

/** Where to go after signing in: only a path of the monitor (never another site). */
function safeNext(next: unknown): string {
  if (typeof next !== "string" || !/^\/web\/[^\\]*$/.test(next) || next.startsWith("//")) return "/web/";
  return next;
}
