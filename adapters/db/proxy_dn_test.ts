import { assertEquals } from "../../tests/helpers/assert.ts";
import { ownerDnCandidates } from "./proxy_dn.ts";

Deno.test("only grid proxy components are stripped from a certificate subject", () => {
  assertEquals(ownerDnCandidates("/DC=ch/DC=cern/CN=Bob/CN=proxy/CN=12345"), [
    "/DC=ch/DC=cern/CN=Bob/CN=proxy/CN=12345",
    "/DC=ch/DC=cern/CN=Bob/CN=proxy",
    "/DC=ch/DC=cern/CN=Bob",
  ]);
  assertEquals(ownerDnCandidates("/DC=org/CN=dan/CN=limited proxy"), [
    "/DC=org/CN=dan/CN=limited proxy",
    "/DC=org/CN=dan",
  ]);
  // Anything else is another DN: no candidate is a prefix of it.
  assertEquals(ownerDnCandidates("/DC=org/CN=dan/O=Evil/CN=eve"), ["/DC=org/CN=dan/O=Evil/CN=eve"]);
  assertEquals(ownerDnCandidates("/DC=org/CN=dan/CN=eve"), ["/DC=org/CN=dan/CN=eve"]);
  assertEquals(ownerDnCandidates("/DC=org/CN=dan/CN=proxyX"), ["/DC=org/CN=dan/CN=proxyX"]);
  assertEquals(ownerDnCandidates("/DC=org/CN=dan/CN=12a"), ["/DC=org/CN=dan/CN=12a"]);
  assertEquals(
    ownerDnCandidates("/DC=org/CN=dan/cn=proxy"),
    ["/DC=org/CN=dan/cn=proxy"],
    "case matters, as in the grid",
  );
  // A subject that is only proxy components has no owner to strip down to.
  assertEquals(ownerDnCandidates("/CN=proxy"), ["/CN=proxy"]);
  assertEquals(ownerDnCandidates(""), [""]);
  // Long delegation chains stop after 16 components.
  assertEquals(ownerDnCandidates("/CN=x" + "/CN=1".repeat(40)).length, 17);
});
