import { getLogger } from "@logtape/logtape";
import { sleep } from "../../actors/runtime/clock.ts";
import { nanoid } from "nanoid";
import { envelope } from "../../registry/http/context.ts";
import type { ClusterNode } from "./cluster_node.ts";
import { withIdempotencyKey } from "./idempotency_context.ts";

export interface ClusterHttpOptions {
  /** How long a write waits for a leader to forward to (default 15 s), then 503. */
  forwardWaitMs?: number;
  /** How long a read waits for `min_generation` (default 10 s), then 503. */
  minGenerationWaitMs?: number;
}

/** Set on forwarded writes: the receiver answers rather than forwarding again. */
const FORWARDED = "X-Dynamo-Forwarded-By";
/** Set by a node that was asked to write but does not lead (any more): the sender looks again. */
const NOT_LEADER = "X-Dynamo-Not-Leader";
/** Reads answered by the leader's agents (the scheduler's state, a running consistency check). */
const LEADER_READS = /^\/data\/(scheduler\/|consistency\/progress$)/;
const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;
const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function json(status: number, message: string, data: unknown = null, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(envelope(status, message, data)), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function unavailable(message: string, extra: Record<string, string> = {}): Response {
  return json(503, message, null, { "Retry-After": "1", ...extra });
}

/** A fetched answer passed on: fetch has decoded the body, so its length and encoding no longer hold. */
function plain(res: Response): Response {
  const headers = new Headers(res.headers);
  headers.delete("Content-Encoding");
  headers.delete("Content-Length");
  return new Response(res.body, { status: res.status, headers });
}

const log = getLogger(["dynamo", "cluster"]);

/**
 * The HTTP front of a cluster node (docs/cluster.md): reads are served from
 * this node's snapshot (waiting for `min_generation` if asked), writes run
 * here when this node leads and are forwarded to the leader otherwise, each
 * under an `Idempotency-Key` (the client's, or one made here) so that a retried
 * write is applied once.
 */
export function clusterFetch(
  node: ClusterNode,
  options: ClusterHttpOptions = {},
): (req: Request) => Promise<Response> {
  const forwardWaitMs = options.forwardWaitMs ?? 15_000;
  const minWaitMs = options.minGenerationWaitMs ?? 10_000;
  const inProgress = new Set<string>();

  async function read(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/data/cluster/status") {
      const s = await node.status();
      return json(200, "", {
        node: s.self,
        journal_head: s.journalHead,
        lease: {
          generation: s.lease.generation,
          holder: s.lease.holder,
          acquired_ms: s.lease.acquiredMs,
          changes: s.lease.changes,
        },
        nodes: s.nodes.map((n) => ({
          id: n.id,
          host: n.host,
          pid: n.pid,
          version: n.version,
          url: n.url,
          role: n.role,
          holds_lease: n.holdsLease,
          started_ms: n.startedMs,
          heartbeat_age_ms: n.heartbeatAgeMs,
          journal_seq: n.journalSeq,
          lag: n.lag,
          lease_changes: n.leaseChanges,
        })),
      });
    }
    const minText = url.searchParams.get("min_generation") ?? req.headers.get("X-Min-Generation");
    if (url.searchParams.has("min_generation")) {
      url.searchParams.delete("min_generation");
      req = new Request(url, req);
    }
    const service = node.current;
    if (!service) return unavailable("The server is starting; retry shortly");
    if (LEADER_READS.test(url.pathname) && node.role !== "leader" && !req.headers.has(FORWARDED)) {
      const leader = await node.leaderUrl().catch(() => null);
      if (!leader) return unavailable("No leader is available to answer this; retry");
      const headers = new Headers(req.headers);
      headers.set(FORWARDED, node.id);
      headers.delete("Host");
      return plain(await fetch(`${leader}${url.pathname}${url.search}`, { headers }));
    }
    if (minText !== null) {
      const min = Number(minText);
      if (!/^\d{1,15}$/.test(minText)) {
        return json(400, `min_generation must be a non-negative integer, got "${minText.slice(0, 40)}"`);
      }
      const deadline = node.clock.now() + minWaitMs;
      while (!(node.current?.port.isReady() && node.current.port.snapshot().generation >= min)) {
        if (node.clock.now() >= deadline) {
          return unavailable(`This server has not reached inventory generation ${min} yet; retry`);
        }
        await sleep(node.clock, 10);
      }
    }
    const res = await node.current!.app.fetch(req);
    if (url.pathname !== "/metrics") return res;
    return new Response((await res.text()) + node.metricsText(), {
      status: res.status,
      headers: res.headers,
    });
  }

  async function leaderWrite(req: Request, body: ArrayBuffer, key: string): Promise<Response> {
    const known = await node.store.recall(key);
    if (known?.answer) {
      return new Response(known.answer.body, {
        status: known.answer.status,
        headers: {
          ...(known.answer.contentType ? { "Content-Type": known.answer.contentType } : {}),
          "Idempotent-Replayed": "true",
        },
      });
    }
    if (known && known.committedAt !== null) {
      return json(200, `Already applied at inventory generation ${known.committedAt}`, {
        generation: known.committedAt,
      }, { "Idempotent-Replayed": "true" });
    }
    // A claim without a commit by another (now deposed or dead) leader can no longer commit: run it.
    if (inProgress.has(key)) {
      return json(409, "A write with this Idempotency-Key is in progress; retry", null, {
        "Retry-After": "1",
      });
    }
    inProgress.add(key);
    try {
      await node.store.claimKey(key, node.id, node.clock.now());
      const service = node.current!;
      const res = await withIdempotencyKey(
        key,
        () => service.app.fetch(new Request(req.url, { method: req.method, headers: req.headers, body })),
      );
      if (res.status >= 500) return res; // not applied, or not known to be: the claim stays open
      const text = await res.text();
      const generation = Number(res.headers.get("X-Inventory-Generation"));
      await node.store.remember(key, {
        status: res.status,
        contentType: res.headers.get("Content-Type"),
        body: text,
        generation: null,
      }).catch(() => {});
      const headers = new Headers(res.headers);
      headers.set("Idempotency-Key", key);
      if (Number.isFinite(generation)) headers.set("X-Inventory-Generation", String(generation));
      return new Response(text, { status: res.status, headers });
    } finally {
      inProgress.delete(key);
    }
  }

  /** Aborts `abort` once the lease has passed to a node other than `leader`. */
  function watchLeader(leader: string, abort: AbortController): { stop(): void } {
    let stopped = false;
    (async () => {
      while (!stopped) {
        await sleep(node.clock, 250);
        if (stopped) return;
        const now = await node.leaderUrl().catch(() => leader);
        // null: no live leader, or this node itself once it has taken the lease.
        if (now !== leader && (now !== null || node.role !== "follower")) abort.abort();
      }
    })();
    return { stop: () => stopped = true };
  }

  async function write(req: Request): Promise<Response> {
    const given = req.headers.get("Idempotency-Key");
    if (given !== null && !KEY_PATTERN.test(given)) {
      return json(400, "Idempotency-Key must be 1 to 200 printable ASCII characters");
    }
    const key = given ?? nanoid();
    const body = await req.arrayBuffer();
    const forwarded = req.headers.has(FORWARDED);
    const deadline = node.clock.now() + forwardWaitMs;
    for (;;) {
      // The lease is confirmed before each write, so a leader that wakes up deposed forwards it at once;
      // one deposed after this check is stopped by the fence in the write's transaction (503, retried below).
      if (node.role === "leader" && await node.confirmLeadership()) {
        const res = await leaderWrite(req, body, key);
        // A write that failed because this node was deposed meanwhile goes to the new leader (same key).
        if (res.status < 500 || await node.confirmLeadership()) return res;
        await res.body?.cancel();
      }
      if (forwarded) return unavailable("This server does not lead the cluster", { [NOT_LEADER]: "1" });
      if (node.role === "follower") {
        const leader = await node.leaderUrl().catch(() => null);
        if (leader) {
          const url = new URL(req.url);
          const headers = new Headers(req.headers);
          headers.set("Idempotency-Key", key);
          headers.set(FORWARDED, node.id);
          headers.delete("Host");
          headers.delete("Content-Length");
          // A leader that hangs (paused, cut off) keeps the connection open: when the lease moves on,
          // the write goes to the new leader under the same key.
          const abort = new AbortController();
          const watch = watchLeader(leader, abort);
          try {
            const res = await fetch(`${leader}${url.pathname}${url.search}`, {
              method: req.method,
              headers,
              body: body.byteLength > 0 ? body : null,
              signal: abort.signal,
            });
            if (res.status === 409 && res.headers.has("Retry-After")) {
              await res.body?.cancel(); // our own earlier attempt is still running there: wait for it
            } else if (!res.headers.has(NOT_LEADER)) return plain(res);
            else await res.body?.cancel();
          } catch {
            // the leader went away: look again until the deadline
          } finally {
            watch.stop();
          }
        }
      }
      if (node.clock.now() >= deadline) {
        return unavailable("No leader is available to take writes; retry", { "Idempotency-Key": key });
      }
      await sleep(node.clock, 100);
    }
  }

  return async (req) => {
    try {
      return READ_METHODS.has(req.method) ? await read(req) : await write(req);
    } catch (e) {
      // The database's own text stays in the log, as everywhere at the edge.
      log.error("Cluster front failed on {method} {path}: {error}", {
        method: req.method,
        path: new URL(req.url).pathname,
        error: String(e),
      });
      return unavailable("The cluster could not serve this request; retry");
    }
  };
}
