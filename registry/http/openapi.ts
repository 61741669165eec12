/** A compact OpenAPI 3.1 description of the registry, served at /openapi.json. */
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

const write = (summary: string) => ({
  post: {
    summary,
    security: [{ bearer: [] }],
    requestBody: { required: true, content: { "application/json": { schema: { type: "object" } } } },
    responses: {
      "200": { description: "OK", content: { "application/json": { schema: envelope } } },
      "400": { description: "Bad input: the message names the parameter; nothing was applied" },
      "401": { description: "No or unknown token" },
      "403": { description: "Missing role admin on inventory" },
      "503": { description: "Starting or overloaded: retry after Retry-After seconds" },
    },
  },
});

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
    "/data/inventory/inject": write("Queue an injection (asynchronous)"),
    "/data/inventory/injectsync": write("Inject now (atomic)"),
    "/data/inventory/delete": write("Queue an invalidation (asynchronous)"),
    "/data/inventory/deletesync": write("Invalidate now (atomic)"),
  },
};
