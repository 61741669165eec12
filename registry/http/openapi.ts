/** A compact OpenAPI 3.1 description of the registry, served at /openapi.json. */
import { STAT_CATEGORIES } from "../inventory/reads/inventory_stats.ts";

const envelope = {
  type: "object",
  properties: { result: { type: "string" }, message: { type: "string" }, data: {} },
  required: ["result", "message", "data"],
};

const read = (summary: string, params: string[]) => ({
  get: {
    summary,
    parameters: params.map((name) => ({ name, in: "query", required: false, schema: { type: "string" } })),
    responses: { "200": { description: "OK", content: { "application/json": { schema: envelope } } } },
  },
});

const responses = (role: string) => ({
  "200": { description: "OK", content: { "application/json": { schema: envelope } } },
  "400": { description: "Bad input: the message names the parameter; nothing was applied" },
  "401": { description: "No or unknown token" },
  "403": { description: `Missing role: ${role}` },
  "409": { description: "Conflicts with the current state (the message says which)" },
  "503": { description: "Starting, overloaded or not configured: retry after Retry-After seconds" },
});

/** A write whose input is a JSON document. */
const write = (summary: string, role = "admin on inventory") => ({
  post: {
    summary,
    security: [{ bearer: [] }],
    requestBody: { required: true, content: { "application/json": { schema: {} } } },
    responses: responses(role),
  },
});

/** A write whose input is parameters (query string, form, or a JSON object of them). */
const action = (summary: string, params: string[], role: string) => ({
  post: {
    summary,
    security: [{ bearer: [] }],
    parameters: params.map((name) => ({ name, in: "query", required: false, schema: { type: "string" } })),
    responses: responses(role),
  },
});

const LOCK_LIST = read("Detox locks (active, or all with showall=y)", ["lockid", "user", "item", "showall"]);
const LOCK = action("Lock an item against Detox until a date", [
  "item",
  "expires",
  "sites",
  "groups",
  "service",
  "comment",
], "any authenticated user");
const UNLOCK = action(
  "Release locks by id or item",
  ["lockid", "item"],
  "any user (admin on registry: anyone's)",
);
const LOCK_SET = write("Make the caller's locks exactly this JSON list", "any authenticated user");
const COPY = action("Request copies", ["item", "site", "group", "n"], "any authenticated user");
const POLL = ["request_id", "item", "site", "status", "user", "all"];
/** Polls: GET, or POST with a form as the original `dynamo-request --poll` sends it. */
const pollOf = (summary: string) => ({
  get: read(summary, POLL).get,
  post: { ...read(`${summary} (form POST, as the original client)`, POLL).get },
});
const STATS = ["list_by", "physical", ...STAT_CATEGORIES];
const HISTORY = ["limit", "since", "graph", "src_filter", "no_mss", "period", "upto", "exit_code"];
const DELETE = action("Request deletions", ["item", "site"], "any authenticated user");

export const OPENAPI = {
  openapi: "3.1.0",
  info: { title: "Dynamo on Deno registry", version: "1" },
  components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
  paths: {
    "/health": read("Readiness and inventory generation", []),
    "/metrics": read("Prometheus metrics", []),
    "/data/inventory/datasets": read("Datasets matching a name or wildcard", ["dataset"]),
    "/data/inventory/sites": read("Sites with per-partition quota and usage (bytes)", ["site", "partition"]),
    "/data/inventory/groups": read("Groups", ["group"]),
    "/data/inventory/blockreplicas": read("Block replicas, PhEDEx style", [
      "block",
      "dataset",
      "node",
      "complete",
      "group",
      "update_since",
      "create_since",
    ]),
    "/data/inventory/injection": read("Status of a queued injection", ["id"]),
    "/data/inventory/injections": read("Queued and settled injections, newest first", [
      "status",
      "before",
      "limit",
    ]),
    "/data/inventory/inject": write("Queue an injection (asynchronous)"),
    "/data/inventory/injectsync": write("Inject now (atomic)"),
    "/data/inventory/delete": write("Queue an invalidation (asynchronous)"),
    "/data/inventory/deletesync": write(
      "Invalidate now (atomic); 409 while a deletion of such a dataset is in flight",
    ),
    "/data/inventory/setquota": action("Set a partition's quota at a site", [
      "site",
      "partition",
      "quota",
    ], "admin on inventory"),
    "/openapi.json": read("This document", []),
    "/data/whoami": read("The authenticated user and roles", []),
    "/data/detox/partitions": read("Partitions with Detox cycles", []),
    "/data/detox/cycles": read(
      "Detox cycles, newest first; with partition_id or cycle (0 = latest), the original monitor's one entry",
      ["partition", "mode", "limit", "partition_id", "cycle"],
    ),
    "/data/detox/summary": read("Per-site outcome of a cycle, with the previous", ["cycle", "partition"]),
    "/data/detox/sitedetail": read("Every decision at a site in a cycle", ["site", "cycle", "partition"]),
    "/data/detox/datasets": read(
      "Why each replica of a dataset (or, datasets[], each pattern's) was decided",
      [
        "dataset",
        "datasets",
        "cycle",
        "partition",
      ],
    ),
    "/data/detox/policy": read("The policy text a cycle ran", ["cycle", "partition"]),
    "/data/detox/dump": {
      get: {
        ...read("A cycle's deletions as a download: site, dataset, GB per line", ["cycle", "partition"]).get,
        responses: {
          "200": { description: "OK", content: { "text/plain": { schema: { type: "string" } } } },
        },
      },
    },
    "/data/detox/run": action(
      "Run a Detox cycle now",
      ["partition", "policy", "mode", "time_shift", "comment"],
      "admin or operator on application",
    ),
    "/data/detox/lock/list": LOCK_LIST,
    "/data/detox/lock/lock": LOCK,
    "/data/detox/lock/unlock": UNLOCK,
    "/data/detox/lock/set": LOCK_SET,
    "/registry/detoxlock/list": LOCK_LIST,
    "/registry/detoxlock/lock": LOCK,
    "/registry/detoxlock/unlock": UNLOCK,
    "/registry/detoxlock/set": LOCK_SET,
    "/data/popularity/accesses": write(
      "Record dataset accesses (JSON list)",
      "admin or operator on registry",
    ),
    "/data/request/copy": COPY,
    "/data/request/pollcopy": pollOf("Copy requests"),
    "/data/request/cancelcopy": action(
      "Cancel a new copy request",
      ["request_id"],
      "the requester or admin on registry",
    ),
    "/data/request/delete": DELETE,
    "/data/request/polldelete": pollOf("Deletion requests"),
    "/registry/request/copy": COPY,
    "/registry/request/pollcopy": pollOf("Copy requests"),
    "/registry/request/cancelcopy": action(
      "Cancel a new copy request",
      ["request_id"],
      "the requester or admin on registry",
    ),
    "/registry/request/delete": DELETE,
    "/registry/request/polldelete": pollOf("Deletion requests"),
    "/data/applock/check": read("Whether an application is locked", ["app"]),
    "/data/applock/current": read("Application locks", []),
    "/data/applock/lock": action(
      "Pause an application",
      ["app", "service", "note"],
      "admin or operator on application",
    ),
    "/data/applock/unlock": action("Resume an application", ["app"], "admin or operator on application"),
    "/data/demand/jobs": write("Record job demand (JSON list)", "admin or operator on registry"),
    "/data/dealer/run": action(
      "Run a Dealer cycle now",
      ["mode", "comment"],
      "admin or operator on application",
    ),
    "/data/dealer/cycles": read("Dealer cycles, newest first", ["limit"]),
    "/data/transfers/current": read("File transfers queued or in flight", ["limit"]),
    "/data/transfers/history": read(
      "Finished file transfers, newest first; with graph… the original monitor's histogram",
      [...HISTORY, "entity", "dest_filter"],
    ),
    "/data/transfers/held/summary": read("Held files per site, kind and reason", []),
    "/data/transfers/held/detail": read("Held files with their last error", ["limit", "site", "reason"]),
    "/data/transfers/release": action(
      "Release held files (ids or all=y)",
      ["id", "all"],
      "admin or operator on application",
    ),
    "/data/detox/replicas": read("A page of a site's decisions in a cycle, with the policy line", [
      "cycle",
      "site",
      "offset",
      "limit",
    ]),
    "/data/transfers/files": read(
      "A page of the file operations of a dataset at a site, with the last error",
      [
        "dataset",
        "site",
        "kind",
        "offset",
        "limit",
      ],
    ),
    "/data/deletions/history": read(
      "Finished file deletions, newest first; with graph… the original monitor's histogram",
      HISTORY,
    ),
    "/data/dataset/status": read(
      "Where a dataset's work is: pending copies and deletions per site with each file's state and last error, and open requests",
      ["dataset"],
    ),
    "/data/fileops/run": action("Run one file-operations pass now", [], "admin or operator on application"),
    "/data/scheduler/sequences": read("Sequences of the sequence file: position, status, next wake-up", []),
    "/data/scheduler/sequence/start": action(
      "Start (resume) a sequence",
      ["sequence"],
      "admin or operator on application",
    ),
    "/data/scheduler/sequence/stop": action(
      "Stop a sequence after its running step",
      ["sequence"],
      "admin or operator on application",
    ),
    "/data/scheduler/applications": read("Application runs, newest first", ["limit"]),
    "/data/scheduler/application/run": action(
      "Queue a run of an application of the sequence file (arg[] its arguments)",
      ["app", "arg"],
      "admin or operator on application",
    ),
    "/data/scheduler/application/kill": action(
      "Kill a queued or running application run",
      ["id"],
      "admin or operator on application",
    ),
    "/data/consistency/summary": read("Per site: the last consistency run and its counts", []),
    "/data/consistency/site": read("A site's last consistency run and a page of its findings", [
      "site",
      "kind",
      "offset",
      "limit",
    ]),
    "/data/consistency/check": action(
      "Check a site's consistency now (dry_run=y: report only)",
      ["site", "dry_run"],
      "admin or operator on application",
    ),
    "/data/consistency/progress": read("How far a site's running check has listed (null: none runs)", [
      "site",
    ]),
    "/data/consistency/cancel": action(
      "Cancel a site's running or queued check (nothing of it is recorded)",
      ["site"],
      "admin or operator on application",
    ),
    "/data/consistency/invalidate": action(
      "Mark the unrecoverable files of a site's last complete run invalid",
      ["site"],
      "admin or operator on application",
    ),
    "/data/inventory/setstatus": action("Set a site's status", ["site", "status"], "admin on inventory"),
    "/data/inventory/lfn2pfn": read(
      "The PFN of an LFN at a site; or (the original's) {mapping} for node, protocol, lfn",
      ["site", "lfn", "node", "protocol"],
    ),
    "/data/inventory/stats/size": read("Original monitor: total size (TB) per list_by category", STATS),
    "/data/inventory/stats/replication": read(
      "Original monitor: mean and rms replication per category",
      STATS,
    ),
    "/data/inventory/stats/usage": read("Original monitor: per-site usage (TB) per category", STATS),
    "/data/inventory/requestlist": read("Original (PhEDEx style): copy and deletion requests", [
      "node",
      "dataset",
      "decision",
    ]),
    "/data/inventory/subscriptions": read("Original (PhEDEx style): replicas as subscriptions", [
      "dataset",
      "block",
      "node",
      "group",
      "suspended",
      "move",
    ]),
    "/data/dealer/decisions": read("Every proposal's fate, by dataset or cycle", [
      "dataset",
      "cycle",
      "limit",
    ]),
  },
};
