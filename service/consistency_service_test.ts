import { assert, assertEquals, assertRejects, assertThrows } from "../tests/helpers/assert.ts";
import { consistencyFromEnv } from "./config/consistency_settings.ts";
import { parseServiceConfig } from "./config/service_config.ts";
import { PolicySyntaxError } from "../policies/language/errors.ts";
import { consistencyRunner } from "../actors/agents/consistency_app.ts";
import { ActorSystem, TestClock } from "../actors/runtime/mod.ts";

Deno.test("the service configuration names the consistency file, beside it; garbage is an error naming the key", () => {
  const c = parseServiceConfig(
    JSON.stringify({ consistency: { config: "consistency.json" } }),
    "/etc/dynamo/dynamo.json",
  );
  assertEquals(c.env.DYNAMO_CONSISTENCY_CONFIG, "/etc/dynamo/consistency.json");
  for (const bad of [{ consistency: { config: 1 } }, { consistency: { file: "x" } }, { consistency: "x" }]) {
    const e = assertThrows(() => parseServiceConfig(JSON.stringify(bad), "d.json"), PolicySyntaxError);
    assert(e.message.includes("consistency"), e.message);
  }
});

Deno.test("DYNAMO_CONSISTENCY_CONFIG: absent is off; unreadable or garbage files are clear errors", async () => {
  assertEquals(await consistencyFromEnv(() => undefined), null);
  await assertRejects(
    () => consistencyFromEnv(() => "/nonexistent/c.json"),
    TypeError,
    "DYNAMO_CONSISTENCY_CONFIG",
  );
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify({ defaults: { max_orphan: "all of them" } }));
    await assertRejects(() => consistencyFromEnv(() => file), PolicySyntaxError, "defaults.max_orphan");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ interval: "6h", sites: { T2_A: { never_delete_orphans: true } } }),
    );
    const s = await consistencyFromEnv(() => file);
    assertEquals(s?.config.intervalMs, 6 * 3600_000);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("the scheduler's consistency application refuses unknown arguments", async () => {
  const system = new ActorSystem({ clock: new TestClock(0) });
  const ref = system.refFor<never>("/nobody");
  const runner = consistencyRunner(system, ref as never, 1000);
  for (const args of [["--site"], ["--bogus"], ["T2_A"]]) {
    await assertRejects(() => runner.run(args, new AbortController().signal), Error, "unknown argument");
  }
  await system.shutdown();
});
