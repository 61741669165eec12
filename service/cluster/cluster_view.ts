import type { ClusterNodeRow } from "../../adapters/db/cluster_store.ts";

/** A node as `cluster status` shows it. */
export interface NodeView {
  id: string;
  host: string;
  pid: number;
  version: string;
  url: string | null;
  /** `dead`: it stopped beating without saying goodbye (killed, partitioned). */
  role: "starting" | "follower" | "leader" | "stopped" | "dead";
  holdsLease: boolean;
  startedMs: number;
  heartbeatAgeMs: number;
  journalSeq: number;
  /** Committed entries the node had not applied at its last beat. */
  lag: number;
  leaseChanges: number;
}

/** Pure: node rows as seen at `nowMs`. */
export function nodeViews(
  rows: readonly ClusterNodeRow[],
  at: { nowMs: number; journalHead: number; leaseHolder: string | null; staleMs: number },
): NodeView[] {
  return rows.map((r) => {
    const age = Math.max(0, at.nowMs - r.heartbeatMs);
    const alive = r.role !== "stopped" && age <= at.staleMs;
    return {
      id: r.id,
      host: r.host,
      pid: r.pid,
      version: r.version,
      url: r.url,
      role: r.role === "stopped" ? "stopped" : alive ? r.role : "dead",
      holdsLease: alive && r.id === at.leaseHolder,
      startedMs: r.startedMs,
      heartbeatAgeMs: age,
      journalSeq: r.journalSeq,
      lag: alive ? Math.max(0, at.journalHead - r.journalSeq) : 0,
      leaseChanges: r.leaseChanges,
    };
  });
}

/** The role a metric shows for a node's internal state. */
export function clusterRoleOf(role: string): "leader" | "follower" | "starting" {
  return role === "leader" ? "leader" : role === "follower" ? "follower" : "starting";
}
