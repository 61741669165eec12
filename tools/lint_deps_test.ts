import { assertEquals } from "../tests/helpers/assert.ts";
import { checkDependencies, RULES } from "./lint_deps.ts";

async function tree(files: Record<string, string>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "lint_deps_" });
  for (const [path, text] of Object.entries(files)) {
    const full = `${root}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, text);
  }
  return root;
}

Deno.test("lint:deps passes on this repository", async () => {
  assertEquals(await checkDependencies(new URL("..", import.meta.url).pathname), []);
});

Deno.test("lint:deps reports deliberate violations of the dependency direction", async () => {
  const root = await tree({
    "registry/inventory/model.ts": 'import { x } from "../../actors/runtime/clock.ts";\n',
    "actors/runtime/clock.ts": 'export * from "../inventory/thing.ts";\n',
    "actors/agents/detox.ts": [
      'import { store } from "../../adapters/db/inventory_store.ts";',
      'import type { Port } from "../../adapters/db/inventory_store_port.ts";',
      'import { model } from "../../registry/inventory/mod.ts";',
    ].join("\n"),
    "registry/http/app.ts": 'const m = await import("../../actors/inventory/inventory_actor.ts");\n',
    "adapters/cli/user.ts": 'import { db } from "../db/database.ts";\nimport { own } from "./other.ts";\n',
    "adapters/db/inventory_store_port.ts": 'import type { S } from "./inventory_store.ts";\n',
    "actors/inventory/replica.ts": 'new Worker(new URL("../../adapters/db/worker.ts", import.meta.url));\n',
    "actors/inventory/replica_test.ts": 'import { db } from "../../adapters/db/database.ts";\n',
    "main.ts": 'import { everything } from "./adapters/db/database.ts";\n',
  });
  const found = (await checkDependencies(root)).map((v) => `${v.file}:${v.line} -> ${v.imports}`);
  await Deno.remove(root, { recursive: true });
  assertEquals(found, [
    "actors/agents/detox.ts:1 -> adapters/db/inventory_store.ts",
    "actors/inventory/replica.ts:1 -> adapters/db/worker.ts",
    "actors/runtime/clock.ts:1 -> actors/inventory/thing.ts",
    "adapters/cli/user.ts:1 -> adapters/db/database.ts",
    "adapters/db/inventory_store_port.ts:1 -> adapters/db/inventory_store.ts",
    "registry/http/app.ts:1 -> actors/inventory/inventory_actor.ts",
    "registry/inventory/model.ts:1 -> actors/runtime/clock.ts",
  ]);
});

Deno.test("every rule of lint:deps fires on a synthetic violation of it, and only there", async () => {
  // One offending file per rule, in the order of RULES; each imports one thing its layer may not.
  const offenders: [string, string][] = [
    ["actors/runtime/mailbox.ts", "../../registry/inventory/mod.ts"],
    ["registry/inventory/model.ts", "../requests/copy_request.ts"],
    ["registry/requests/deletion_request.ts", "../../policies/detox/deletion_plan.ts"],
    ["policies/detox/plan.ts", "../../actors/runtime/mod.ts"],
    ["actors/agents/detox.ts", "../../service/create_dynamo.ts"],
    ["registry/http/routes/detox.ts", "../../../policies/detox/detox_engine.ts"],
    ["adapters/db/lock_store_port.ts", "./lock_store.ts"],
    ["adapters/db/lock_store.ts", "../../actors/runtime/mod.ts"],
    ["service/create_dynamo.ts", "../main.ts"],
    ["mod.ts", "./main.ts"],
    ["main.ts", "./demo/run_demo.ts"],
    ["demo/run_demo.ts", "../main.ts"],
    ["examples/script.ts", "../registry/inventory/mod.ts"],
  ];
  assertEquals(offenders.length, RULES.length);
  const allowed: Record<string, string> = {
    // The same layers importing what they may: no violation.
    "registry/requests/copy_request.ts": 'import { x } from "../inventory/mod.ts";\n',
    "registry/http/routes/lock.ts": 'import { t } from "../../../policies/language/time_expression.ts";\n',
    "service/start.ts":
      'import { c } from "./create_dynamo.ts";\nimport { a } from "../adapters/db/database.ts";\n',
    "demo/demo_main.ts": 'import { c } from "../service/create_dynamo.ts";\n',
    "bench/bench.ts": 'import { s } from "../simulate/simulation.ts";\n',
    "simulate/main.ts": 'import { p } from "../policies/detox/detox_engine.ts";\n',
    "tools/any.ts": 'import { m } from "../main.ts";\n',
  };
  const root = await tree({
    ...Object.fromEntries(offenders.map(([file, target]) => [file, `import { x } from "${target}";\n`])),
    ...allowed,
  });
  const found = await checkDependencies(root);
  await Deno.remove(root, { recursive: true });
  assertEquals(
    found.map((v) => [v.file, v.rule]).sort(),
    offenders.map(([file], i) => [file, RULES[i]!.name]).sort(),
  );
});
