import { assertEquals } from "../../tests/helpers/assert.ts";
import { ActorSystem, replyChannel, TestClock } from "../runtime/mod.ts";
import { Snapshot } from "../../registry/inventory/mod.ts";
import { siteActor, type SiteGrant, type SiteMsg } from "./site_actor.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

function siteStatus(status: { current: string }) {
  return () => ({ site: () => ({ status: status.current }) }) as unknown as Snapshot;
}

Deno.test("a site actor grants at most its parallelism, queues the rest in order, refuses when not ready", async () => {
  const system = new ActorSystem({ clock: new TestClock(), logger: () => silent });
  const status = { current: "ready" };
  const site = system.spawn<SiteMsg>({
    id: "site:T2_A",
    restart: "permanent",
    behavior: siteActor({ site: "T2_A", parallelism: 2, snapshot: siteStatus(status) }),
  });
  const answers: (SiteGrant | "waiting")[] = [];
  const acquire = () => {
    const i = answers.push("waiting") - 1;
    const { ref, reply } = replyChannel<SiteGrant>("t");
    site.tell({ type: "acquire", replyTo: ref });
    reply.then((g) => answers[i] = g);
  };
  for (let i = 0; i < 4; i++) acquire();
  await system.runUntilIdle();
  assertEquals(answers, [{ granted: true }, { granted: true }, "waiting", "waiting"]);
  site.tell({ type: "release" });
  await system.runUntilIdle();
  assertEquals(answers.slice(2), [{ granted: true }, "waiting"], "the first waiter gets the freed slot");
  status.current = "waitroom"; // downtime: the waiting worker and new ones are refused
  site.tell({ type: "release" });
  acquire();
  await system.runUntilIdle();
  assertEquals(answers.slice(3), [{ granted: false, status: "waitroom" }, {
    granted: false,
    status: "waitroom",
  }]);
  await system.shutdown();
});
