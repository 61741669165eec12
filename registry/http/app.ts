import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getLogger } from "@logtape/logtape";
import { type AppEnv, envelope, ok } from "./context.ts";
import { BadRequest, HttpError } from "./errors.ts";
import { HttpMetrics } from "./http_metrics.ts";
import { OPENAPI } from "./openapi.ts";
import { rejectUndeclaredParams } from "./declared_params.ts";
import { type InventoryAccess, UnavailableError } from "./inventory_access.ts";
import { inventoryRoutes } from "./routes/inventory.ts";
import { inventoryStatsRoutes } from "./routes/inventory_stats.ts";
import { phedexCompatRoutes } from "./routes/phedex_compat.ts";
import { injectionRoutes } from "./routes/injections.ts";
import { detoxRoutes } from "./routes/detox.ts";
import type { DetoxRegistry } from "./detox_registry.ts";
import type { RequestRegistry } from "./request_registry.ts";
import { requestRoutes } from "./routes/requests.ts";
import { dealerRoutes } from "./routes/dealer.ts";
import { fileopsRoutes } from "./routes/fileops.ts";
import { datasetRoutes } from "./routes/dataset.ts";
import type { DatasetStatusSource } from "./dataset_status.ts";
import { consistencyRoutes } from "./routes/consistency.ts";
import type { ConsistencyChecks } from "./consistency_checks.ts";
import type { FileOperations } from "./file_operations.ts";
import { schedulerRoutes } from "./routes/scheduler.ts";
import { type DeadlineTimers, DEFAULT_REQUEST_DEADLINE_MS, requestDeadline } from "./request_budget.ts";
import type { SchedulerControl } from "./scheduler_control.ts";
import { webDataRoutes } from "./routes/web_data.ts";
import { mountWeb, type WebOptions } from "./web/web_app.tsx";

export interface RegistryAppOptions {
  /** Largest accepted request body in bytes. */
  maxBodyBytes?: number;
  /**
   * Name of a header carrying the client certificate DN, set by a trusted TLS
   * proxy. Off (undefined) by default: otherwise anyone could claim a DN.
   */
  trustedDnHeader?: string;
  /** Every request's deadline (default 60 s): long loops stop there, and the client gets a 503. */
  requestDeadlineMs?: number;
  /** The clock's timers, to answer at the deadline even while a handler awaits something slow. */
  timers?: DeadlineTimers;
  /** The web monitor under /web/ (on by default). */
  web?: WebOptions;
  /** Detox runs, history, locks and accesses; without it the Detox routes are absent. */
  detox?: DetoxRegistry;
  /** Requests, application locks, demand and the Dealer; `nudgeTracker` wakes the request tracker. */
  requests?: { registry: RequestRegistry; nudgeTracker: () => void };
  fileops?: FileOperations;
  /** Where a dataset's work is (the dataset actors); without it the route is absent. */
  datasets?: DatasetStatusSource;
  scheduler?: SchedulerControl;
  consistency?: ConsistencyChecks;
}

const log = getLogger(["dynamo", "http"]);

/** The REST registry: original `/data/<module>/<command>` paths with the `{result, message, data}` envelope. */
export function createRegistryApp(
  port: InventoryAccess,
  options: RegistryAppOptions = {},
): Hono<AppEnv> {
  const { detox, requests: dealer, fileops, scheduler, consistency } = options;
  const app = new Hono<AppEnv>();
  const metrics = new HttpMetrics();
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;
  let requestCounter = 0;

  app.use("*", async (c, next) => {
    const started = performance.now();
    c.set("requestId", `r${++requestCounter}`);
    c.set("principal", null);
    await next();
    if (port.isReady()) c.header("X-Inventory-Generation", String(port.snapshot().generation));
    c.header("X-Request-Id", c.get("requestId"));
    const seconds = (performance.now() - started) / 1000;
    const route = c.req.routePath ?? "unmatched";
    metrics.record(route, c.req.method, c.res.status, seconds);
    log.info("{method} {path} {status}", {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      status: c.res.status,
      ms: Math.round(seconds * 1000),
      user: c.get("principal")?.user ?? null,
    });
  });

  app.use(
    "*",
    requestDeadline({
      deadlineMs: options.requestDeadlineMs ?? DEFAULT_REQUEST_DEADLINE_MS,
      now: () => port.now(),
      ...(options.timers ? { timers: options.timers } : {}),
    }),
  );

  app.use(
    "*",
    bodyLimit({
      maxSize: maxBody,
      onError: () => {
        throw new BadRequest("body", `request body larger than ${maxBody} bytes`);
      },
    }),
  );

  app.use("*", rejectUndeclaredParams(OPENAPI.paths));

  // Authentication: anonymous is read-only; writes check roles in their handlers.
  app.use("*", async (c, next) => {
    const auth = c.req.header("Authorization");
    if (auth !== undefined) {
      const m = auth.match(/^Bearer\s+(\S+)$/i);
      if (!m) throw new HttpError(401, "Authorization header must be: Bearer <token>");
      const principal = await port.authenticateToken(m[1]!);
      if (!principal) throw new HttpError(401, "Unknown or revoked token");
      c.set("principal", principal);
    } else if (options.trustedDnHeader) {
      const dn = c.req.header(options.trustedDnHeader);
      if (dn) {
        const principal = await port.authenticateDn(dn);
        if (!principal) throw new HttpError(403, "Unknown certificate DN");
        c.set("principal", principal);
      }
    }
    await next();
  });

  app.use("/data/*", async (_c, next) => {
    if (!port.isReady()) throw new HttpError(503, "The inventory is still loading; retry shortly", 5);
    await next();
  });

  app.get("/health", (c) => {
    const ready = port.isReady();
    return c.json(
      envelope(ready ? 200 : 503, ready ? "ready" : "starting", {
        status: ready ? "ready" : "starting",
        generation: ready ? port.snapshot().generation : null,
      }),
      ready ? 200 : 503,
    );
  });

  app.get("/metrics", async (c) => {
    c.header("Content-Type", "text/plain; version=0.0.4");
    return c.body((await port.metrics()) + metrics.render());
  });

  app.get("/openapi.json", (c) => c.json(OPENAPI));
  app.get("/data/whoami", (c) => ok(c, c.get("principal")));

  inventoryRoutes(app, port);
  inventoryStatsRoutes(app, port);
  injectionRoutes(app, port);
  if (detox) detoxRoutes(app, { port, detox });
  if (dealer) {
    requestRoutes(app, { port, ...dealer });
    dealerRoutes(app, dealer.registry);
    phedexCompatRoutes(app, { port, registry: dealer.registry });
  }
  if (fileops) fileopsRoutes(app, { fileops, port });
  if (options.datasets) datasetRoutes(app, options.datasets);
  if (scheduler) schedulerRoutes(app, scheduler);
  if (consistency) consistencyRoutes(app, consistency);
  webDataRoutes(app, { detox, fileops });
  mountWeb(app, { now: () => port.now(), ...options.web });

  app.notFound((c) =>
    c.json(envelope(404, `No such endpoint: ${c.req.method} ${new URL(c.req.url).pathname}`), 404)
  );

  app.onError((error, c) => {
    if (error instanceof UnavailableError) {
      c.header("Retry-After", String(error.retryAfterSeconds));
      return c.json(envelope(503, error.message), 503);
    }
    // A cluster leader deposed mid-write (adapters/db/cluster_store.ts): rolled back, the new leader takes it.
    if (error instanceof Error && error.name === "FencedError") {
      c.header("Retry-After", "1");
      return c.json(
        envelope(503, "This server no longer leads the cluster; nothing was written, retry"),
        503,
      );
    }
    if (error instanceof HttpError) {
      if (error.retryAfterSeconds !== undefined) c.header("Retry-After", String(error.retryAfterSeconds));
      return c.json(
        envelope(error.status, error.message, (error as HttpError & { data?: unknown }).data ?? null),
        error.status,
      );
    }
    log.error("Unhandled error in {path}: {error}", {
      path: new URL(c.req.url).pathname,
      error: String(error),
    });
    return c.json(envelope(500, "Internal error"), 500);
  });

  return app;
}
