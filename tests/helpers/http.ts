/** Calls a registry app in-process, as a client would over HTTP. */
import type { Hono } from "hono";
import type { AppEnv } from "../../registry/http/context.ts";

export interface CallInit {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is. */
  raw?: string;
  token?: string;
  headers?: HeadersInit;
}

export interface CallResult {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: { result: string; message: string; data: any };
  headers: Headers;
}

export function caller(app: Hono<AppEnv>) {
  return async (method: string, path: string, init: CallInit = {}): Promise<CallResult> => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
    let body: string | undefined = init.raw;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers.set("Content-Type", "application/json");
    }
    const res = await app.fetch(
      new Request(`http://dynamo.test${path}`, { method, headers, ...(body !== undefined ? { body } : {}) }),
    );
    return { status: res.status, body: await res.json(), headers: res.headers };
  };
}
