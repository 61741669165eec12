import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { ActorSystem } from "../runtime/mod.ts";
import { listenerActor } from "./listener_actor.ts";

Deno.test({
  name:
    "the listener actor serves from its start and closes its socket, answering requests in flight, when stopped",
  sanitizeResources: false,
  async fn() {
    const system = new ActorSystem({ logger: () => ({ debug() {}, info() {}, warn() {}, error() {} }) });
    let port = 0;
    const slow = Promise.withResolvers<void>();
    const arrived = Promise.withResolvers<void>();
    system.spawn<never>({
      id: "http",
      restart: "permanent",
      behavior: () =>
        listenerActor({
          listen: () => {
            const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
              if (new URL(req.url).pathname === "/slow") {
                arrived.resolve();
                await slow.promise;
              }
              return new Response("ok");
            });
            port = server.addr.port;
            return server;
          },
        }),
    });
    await system.runUntilIdle();
    assert(port > 0);
    assertEquals(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "ok");
    const inFlight = fetch(`http://127.0.0.1:${port}/slow`).then((r) => r.text());
    await arrived.promise;
    const stopped = system.shutdown();
    slow.resolve();
    assertEquals(await inFlight, "ok", "the request in flight is answered");
    await stopped;
    const refused = await fetch(`http://127.0.0.1:${port}/`).then(() => false, () => true);
    assert(refused, "nothing listens after the stop");
  },
});
