/** An in-process Dynamo served over real HTTP on 127.0.0.1 (port 0), with an admin token. */
import { createDynamo, type Dynamo, type DynamoOptions } from "../../service/create_dynamo.ts";
import { TestClock } from "../../actors/runtime/mod.ts";
import type { Database } from "../../adapters/db/database.ts";
import { SqlUserStore } from "../../adapters/db/user_store.ts";
import { parseAuthorization } from "../../adapters/db/user_store_port.ts";

export interface ServedDynamo {
  dynamo: Dynamo;
  clock: TestClock;
  url: string;
  admin: string;
  /** Errors the root supervisor gave up on (the CLI would have exited non-zero). */
  fatal: unknown[];
  /** Raw HTTP: `body` goes as is (string or bytes). */
  send(
    method: string,
    path: string,
    init?: {
      body?: string | Uint8Array<ArrayBuffer>;
      type?: string;
      token?: string;
      headers?: Record<string, string>;
    },
  ): Promise<
    {
      status: number;
      headers: Headers;
      text: string;
      json: { result: string; message: string; data: unknown };
    }
  >;
  close(): Promise<void>;
}

export async function serveDynamo(
  db: Database,
  options: Omit<DynamoOptions, "database" | "clock" | "onFatal"> = {},
): Promise<ServedDynamo> {
  const users = new SqlUserStore(db);
  const { token: admin } = await users.addUser({
    name: "admin",
    dn: "/DC=org/CN=Admin",
    authorizations: [parseAuthorization("admin:inventory")],
  }, 0);
  const clock = new TestClock();
  const fatal: unknown[] = [];
  const dynamo = await createDynamo({
    database: db,
    clock,
    fileops: null,
    onFatal: (e) => fatal.push(e),
    ...options,
  });
  await dynamo.ready;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, dynamo.app.fetch);
  const url = `http://127.0.0.1:${server.addr.port}`;
  return {
    dynamo,
    clock,
    url,
    admin,
    fatal,
    async send(method, path, init = {}) {
      const headers = new Headers(init.headers);
      if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
      if (init.body !== undefined) headers.set("Content-Type", init.type ?? "application/json");
      const res = await fetch(`${url}${path}`, {
        method,
        headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
      });
      const text = await res.text();
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = { result: "", message: text, data: null };
      }
      return { status: res.status, headers: res.headers, text, json };
    },
    async close() {
      await server.shutdown();
      await dynamo.close();
    },
  };
}
