import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { type MutableEnvironment, resolvePathEnvironment } from "./path_environment.ts";

function environment(
  initial: Record<string, string>,
): MutableEnvironment & { values: Record<string, string> } {
  const values = { ...initial };
  return { values, get: (name) => values[name], set: (name, value) => void (values[name] = value) };
}

Deno.test("path environment: relative paths become absolute against the working directory", () => {
  const env = environment({
    DYNAMO_HOME: "state/home",
    DYNAMO_PARTITIONS: "../conf/partitions.txt",
    DYNAMO_DETOX_POLICIES: "detox/a.txt, /etc/dynamo/b.txt,,./c.txt,campaigns/d.txt@Physics",
    DYNAMO_SEQUENCES: "/abs/cms.seq",
    DYNAMO_CONSISTENCY_CONFIG: "conf/consistency.json",
    DYNAMO_LISTEN: "127.0.0.1:8080",
  });
  const changed = resolvePathEnvironment(env, "/work/clone");
  assertEquals(env.values, {
    DYNAMO_HOME: "/work/clone/state/home",
    DYNAMO_PARTITIONS: "/work/conf/partitions.txt",
    DYNAMO_DETOX_POLICIES:
      "/work/clone/detox/a.txt,/etc/dynamo/b.txt,/work/clone/c.txt,/work/clone/campaigns/d.txt@Physics",
    DYNAMO_SEQUENCES: "/abs/cms.seq",
    DYNAMO_CONSISTENCY_CONFIG: "/work/clone/conf/consistency.json",
    DYNAMO_LISTEN: "127.0.0.1:8080",
  });
  assertEquals(changed.sort(), [
    "DYNAMO_CONSISTENCY_CONFIG",
    "DYNAMO_DETOX_POLICIES",
    "DYNAMO_HOME",
    "DYNAMO_PARTITIONS",
  ]);
});

Deno.test("path environment: an unset DYNAMO_HOME becomes the absolute default", () => {
  const env = environment({});
  assertEquals(resolvePathEnvironment(env, "/srv/dynamo"), ["DYNAMO_HOME"]);
  assertEquals(env.values, { DYNAMO_HOME: "/srv/dynamo/.dynamo" });
  // A second call changes nothing: resolving is idempotent.
  assertEquals(resolvePathEnvironment(env, "/elsewhere"), []);
});

Deno.test("path environment: hostile and odd values resolve lexically, never by following the file system", () => {
  const env = environment({
    DYNAMO_HOME: "a/../../../etc",
    DYNAMO_POLICIES: "dir with spaces/and%20escapes",
    DYNAMO_DEALER_CONFIG: "file://host/x.json",
  });
  resolvePathEnvironment(env, "/w/c");
  assertEquals(env.values.DYNAMO_HOME, "/etc");
  assertEquals(env.values.DYNAMO_POLICIES, "/w/c/dir with spaces/and%20escapes");
  // Not a URL reader: a URL-looking value is a relative path like any other, and fails later as "cannot read".
  assertEquals(env.values.DYNAMO_DEALER_CONFIG, "/w/c/file:/host/x.json");
});

Deno.test("path environment: an empty DYNAMO_HOME is refused, nothing changed", () => {
  const env = environment({ DYNAMO_HOME: " ", DYNAMO_PARTITIONS: "p.txt" });
  assertThrows(() => resolvePathEnvironment(env, "/w"), TypeError, "DYNAMO_HOME is set but empty");
  assertEquals(env.values, { DYNAMO_HOME: " ", DYNAMO_PARTITIONS: "p.txt" });
});
