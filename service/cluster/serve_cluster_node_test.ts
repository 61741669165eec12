import { assertEquals, assertThrows } from "../../tests/helpers/assert.ts";
import { parseLeaseTimeout } from "./serve_cluster_node.ts";

Deno.test("DYNAMO_LEASE_TIMEOUT: seconds from 1 to 600, 3 by default; anything else names the variable", () => {
  assertEquals(parseLeaseTimeout(undefined), 3000);
  assertEquals(parseLeaseTimeout("10"), 10_000);
  assertEquals(parseLeaseTimeout("1.5"), 1500);
  for (const bad of ["0", "0.5", "601", "-3", "3s", "", " 3", "1e3"]) {
    assertThrows(() => parseLeaseTimeout(bad), TypeError, `DYNAMO_LEASE_TIMEOUT must be a number of seconds`);
  }
});
