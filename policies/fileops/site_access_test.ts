import { assertEquals } from "../../tests/helpers/assert.ts";
import { siteAllows, siteWorkable } from "./site_access.ts";

Deno.test("a ready site does everything; morgue serves and deletes; waitroom and unknown do nothing", () => {
  const table = ["ready", "morgue", "waitroom", "unknown", "garbage"].map((status) => [
    status,
    siteAllows(status, "receive"),
    siteAllows(status, "serve"),
    siteAllows(status, "delete"),
    siteWorkable(status),
  ]);
  assertEquals(table, [
    ["ready", true, true, true, true],
    ["morgue", false, true, true, true],
    ["waitroom", false, false, false, false],
    ["unknown", false, false, false, false],
    ["garbage", false, false, false, false],
  ]);
});
