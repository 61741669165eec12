import type { Context, Hono } from "hono";
import { InventoryValidationError } from "../../inventory/mod.ts";
import { checkApp, checkLockText, type LockableApp } from "../../requests/app_lock.ts";
import { checkCopySubmission, type CopyRequest } from "../../requests/copy_request.ts";
import { checkDeletionSubmission, type DeletionRequest } from "../../requests/deletion_request.ts";
import { parseJobRecords } from "../../requests/job_record.ts";
import { selectPolled } from "../../requests/request_poll.ts";
import { unknownTarget } from "../../requests/request_targets.ts";
import { type AppEnv, isAdmin, ok, requireAuthenticated, requireRole } from "../context.ts";
import type { RequestQuery, RequestRegistry } from "../request_registry.ts";
import { BadRequest, HttpError } from "../errors.ts";
import { collectParams, intParam, parseParams, readJson } from "../params.ts";
import type { InventoryAccess, InventoryReader } from "../inventory_access.ts";

// Lists, because the original `dynamo-request --poll` sends `item[]`, `site[]`, `status[]`, `user[]`.
const POLL = {
  request_id: { kind: "list" },
  item: { kind: "list" },
  site: { kind: "list" },
  status: { kind: "list" },
  user: { kind: "list" },
  all: { kind: "yn" },
} as const;

const STATUSES = ["new", "activated", "completed", "rejected", "cancelled", "failed"];

/** The newest requests looked through when a poll names several items, sites or users. */
const MULTI_POLL_LIMIT = 10_000;

/**
 * `/data/request/*` (spec §8.2 "request", also under `/registry/request/`),
 * `/data/applock/*`, and job demand ingestion at `/data/demand/jobs`.
 */
export function requestRoutes(
  app: Hono<AppEnv>,
  { port, registry: dealer, nudgeTracker: nudge }: {
    port: InventoryAccess;
    registry: RequestRegistry;
    nudgeTracker: () => void;
  },
): void {
  const input = (c: Context<AppEnv>) => collectParams(c.req.raw, new URL(c.req.url), true);
  const now = () => Math.floor(port.now() / 1000);

  for (const prefix of ["/data/request", "/registry/request"]) {
    app.post(`${prefix}/copy`, async (c) => {
      const user = requireAuthenticated(c);
      const p = parseParams(await input(c), {
        item: { kind: "list", required: true },
        site: { kind: "list" },
        group: { kind: "text" },
        n: { kind: "int" },
      });
      const submission = validated(() =>
        checkCopySubmission({ items: p.item!, sites: p.site ?? [], group: p.group ?? null, n: p.n ?? 1 })
      );
      refuseUnknownTargets(port, submission);
      const { request, created } = await dealer.submitCopy(user, submission);
      nudge();
      // A one-element list, as the original answered (its clients read `data[0]`).
      return ok(c, [copyJson(request)], created ? "Request created" : "Request updated");
    });

    // GET, and POST with a form as the original `dynamo-request --poll` sends it.
    app.on(["GET", "POST"], `${prefix}/pollcopy`, async (c) => {
      const rows = await poll(parseParams(await input(c), POLL), (q) => dealer.copyRequests(q));
      return ok(c, rows.map(copyJson), rows.length ? "Request found" : "Request not found");
    });

    app.post(`${prefix}/cancelcopy`, async (c) => {
      const user = requireAuthenticated(c);
      const p = parseParams(await input(c), { request_id: { kind: "int", required: true } });
      const result = await dealer.cancelCopy(
        p.request_id!,
        isAdmin(c.get("principal"), "registry") ? null : user,
      );
      if (typeof result === "string") throw new HttpError(result.startsWith("no copy") ? 404 : 409, result);
      return ok(c, copyJson(result), "Request cancelled");
    });

    app.post(`${prefix}/delete`, async (c) => {
      const user = requireAuthenticated(c);
      const p = parseParams(await input(c), {
        item: { kind: "list", required: true },
        site: { kind: "list", required: true },
      });
      const submission = validated(() => checkDeletionSubmission({ items: p.item!, sites: p.site! }));
      refuseUnknownTargets(port, submission);
      const { request, created } = await dealer.submitDeletion(user, submission);
      nudge();
      return ok(c, [deletionJson(request)], created ? "Request created" : "Request updated");
    });

    app.on(["GET", "POST"], `${prefix}/polldelete`, async (c) => {
      const rows = await poll(parseParams(await input(c), POLL), (q) => dealer.deletionRequests(q));
      return ok(c, rows.map(deletionJson), rows.length ? "Request found" : "Request not found");
    });
  }

  app.get("/data/applock/check", async (c) => {
    const p = parseParams(await input(c), { app: { kind: "text", required: true } });
    const app = validated(() => checkApp(p.app));
    const lock = (await dealer.appLocks()).find((l) => l.app === app);
    return ok(c, { app, locked: lock !== undefined, lock: lock ? appLockJson(lock) : null });
  });

  app.get("/data/applock/current", async (c) => {
    parseParams(await input(c), {});
    return ok(c, (await dealer.appLocks()).map(appLockJson));
  });

  app.post("/data/applock/lock", async (c) => {
    const principal = requireRole(c, "application", ["admin", "operator"]);
    const p = parseParams(await input(c), {
      app: { kind: "text", required: true },
      service: { kind: "text" },
      note: { kind: "text" },
    });
    const lock = validated(() => ({
      app: checkApp(p.app),
      service: checkLockText("service", p.service ?? null),
      note: checkLockText("note", p.note ?? null),
    }));
    const result = await dealer.lockApp({ ...lock, user: principal.user });
    if (!result.ok) {
      throw new HttpError(
        409,
        `${lock.app} is already locked by ${result.lock.user} since ${result.lock.since}`,
      );
    }
    return ok(c, appLockJson(result.lock), `${lock.app} locked`);
  });

  app.post("/data/applock/unlock", async (c) => {
    const principal = requireRole(c, "application", ["admin", "operator"]);
    const p = parseParams(await input(c), { app: { kind: "text", required: true } });
    const app: LockableApp = validated(() => checkApp(p.app));
    const released = await dealer.unlockApp(app, isAdmin(principal, "application") ? null : principal.user);
    if (!released) throw new HttpError(409, `${app} is not locked by ${principal.user}`);
    return ok(c, { app, locked: false }, `${app} unlocked`);
  });

  app.post("/data/demand/jobs", async (c) => {
    requireRole(c, "registry", ["admin", "operator"]);
    const body = await readJson(c.req.raw);
    const records = validated(() => parseJobRecords(body, now()));
    return ok(c, { recorded: await dealer.recordJobs(records) });
  });
}

/** Runs a model check; its validation error becomes a 400 naming the parameter. */
function validated<T>(check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof InventoryValidationError) {
      throw new BadRequest(
        e.field ? (e.object.includes("[") ? `${e.object}.${e.field}` : e.field) : e.object,
        e.reason,
      );
    }
    throw e;
  }
}

/** A new request naming data, sites or a group the inventory does not know is refused (400). */
function refuseUnknownTargets(
  port: InventoryReader,
  s: { items: readonly string[]; sites: readonly string[]; group?: string | null },
): void {
  const bad = unknownTarget(port.snapshot(), s);
  if (bad) throw new BadRequest(bad.param, bad.reason);
}

type PollParams = {
  request_id?: string[];
  item?: string[];
  site?: string[];
  status?: string[];
  user?: string[];
  all?: boolean;
};

/**
 * One item, site and user go to the store's query; several (the original
 * client's `item[]…`) are matched here over the newest requests.
 */
async function poll<T extends CopyRequest | DeletionRequest>(
  p: PollParams,
  fetch: (q: RequestQuery) => Promise<T[]>,
): Promise<T[]> {
  for (const s of p.status ?? []) {
    if (!STATUSES.includes(s)) {
      throw new BadRequest("status", `expected ${STATUSES.join(", ")}, got ${JSON.stringify(s)}`);
    }
  }
  const base: RequestQuery = {
    ...(p.request_id ? { ids: p.request_id.map((x) => intParam("request_id", x)) } : {}),
    ...(p.status ? { statuses: p.status } : {}),
  };
  const several = [p.item, p.site, p.user].some((l) => (l?.length ?? 0) > 1);
  if (!several) {
    return await fetch({
      ...base,
      ...(p.item?.[0] ? { item: p.item[0] } : {}),
      ...(p.site?.[0] ? { site: p.site[0] } : {}),
      ...(p.user?.[0] ? { user: p.user[0] } : {}),
      ...(p.all ? { all: true } : {}),
    });
  }
  const rows = await fetch({ ...base, all: true, limit: MULTI_POLL_LIMIT });
  return selectPolled(rows, {
    ...(p.item ? { items: p.item } : {}),
    ...(p.site ? { sites: p.site } : {}),
    ...(p.user ? { users: p.user } : {}),
    ...(p.all ? { all: true } : {}),
  });
}

/** The original's request JSON. */
function requestJson(r: CopyRequest | DeletionRequest) {
  return {
    request_id: r.id,
    item: r.items,
    site: r.sites,
    status: r.status,
    user: r.user,
    first_request: r.createdAt,
    last_request: r.lastRequestAt,
    request_count: r.requestCount,
    reason: r.reason,
    active: r.actions.map((a) => ({
      item: a.item,
      site: a.site,
      status: a.status,
      updated: a.updatedAt,
      ...(a.reason ? { reason: a.reason } : {}),
    })),
  };
}

function copyJson(r: CopyRequest) {
  return { ...requestJson(r), group: r.group, n: r.n };
}

const deletionJson = requestJson;

function appLockJson(
  l: { app: string; user: string; service: string | null; note: string | null; since: number },
) {
  return { app: l.app, user: l.user, service: l.service, note: l.note, since: l.since };
}
