import { getLogger } from "@logtape/logtape";
import { type Database, openDatabase } from "../../adapters/db/database.ts";
import { migrate } from "../../adapters/db/migrate.ts";
import { type Clock, SystemClock } from "../../actors/runtime/clock.ts";
import { clusterFetch } from "./cluster_http.ts";
import { ClusterNode, type ClusterService, type CreateService } from "./cluster_node.ts";
import denoJson from "../../deno.json" with { type: "json" };

export interface ServeClusterNodeOptions {
  databaseUrl: string;
  listen: { hostname: string; port: number };
  /** How other nodes reach this one (default: from the listen address). */
  advertiseUrl: string | undefined;
  /** Builds the service of a role over the node's database. */
  create: (database: Database, role: Parameters<CreateService>[0]) => Promise<ClusterService>;
  onLeader?: (service: ClusterService) => Promise<void>;
  /** `DYNAMO_LEASE_TIMEOUT`: seconds of silence after which the leader's lease session is ended. */
  leaseTimeout?: string | undefined;
  /** Resolves with an exit code when a service's root supervisor gives up. */
  fatal: Promise<number>;
  /** The node's clock (default: the wall clock). */
  clock?: Clock;
}

/** `dynamo start` on PostgreSQL: one node of the cluster, serving until SIGINT/SIGTERM. */
export async function serveClusterNode(options: ServeClusterNodeOptions): Promise<number> {
  const log = getLogger(["dynamo", "cluster"]);
  const leaseIdleTimeoutMs = parseLeaseTimeout(options.leaseTimeout);
  const db = await openDatabase({ url: options.databaseUrl });
  const clock = options.clock ?? new SystemClock();
  await migrate(db, clock.now());
  const { hostname, port } = options.listen;
  const host = hostname === "0.0.0.0" || hostname === "::" ? Deno.hostname() : hostname;
  const advertiseUrl = options.advertiseUrl ?? `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const node = new ClusterNode({
    db,
    url: options.databaseUrl,
    advertiseUrl,
    version: denoJson.version,
    create: (role) => options.create(db, role),
    leaseIdleTimeoutMs,
    clock,
    ...(options.onLeader ? { onLeader: options.onLeader } : {}),
  });
  const server = Deno.serve({ hostname, port, onListen: () => {} }, clusterFetch(node));
  log.info("Cluster node listening on {url} ({db})", { url: advertiseUrl, db: db.description });
  const signal = Promise.withResolvers<number>();
  const onSignal = () => signal.resolve(0);
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let code: number;
  try {
    code = await Promise.race([
      node.start().then(() => Promise.race([signal.promise, options.fatal])),
      signal.promise,
    ]);
  } catch (e) {
    log.error("The cluster node failed: {error}", { error: String(e) });
    code = 1;
  }
  log.info("Shutting down");
  await server.shutdown();
  await node.stop();
  await db.close();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
  return code;
}

/**
 * `DYNAMO_LEASE_TIMEOUT` (seconds, default 3): how long a leader may fall silent (paused, cut off,
 * an event loop blocked) before PostgreSQL ends its lease session and another node takes over.
 */
export function parseLeaseTimeout(text: string | undefined): number {
  if (text === undefined) return 3000;
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || seconds < 1 || seconds > 600) {
    throw new TypeError(`DYNAMO_LEASE_TIMEOUT must be a number of seconds from 1 to 600, got "${text}"`);
  }
  return Math.round(seconds * 1000);
}
