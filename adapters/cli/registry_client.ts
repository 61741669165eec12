import { CliError } from "./cli_context.ts";

/** A small client of the REST registry with the `{result, message, data}` envelope. */
export class RegistryClient {
  constructor(readonly baseUrl: string, private readonly token?: string) {}

  async get<T>(path: string, params: Record<string, string | string[] | undefined> = {}): Promise<T> {
    const url = new URL(path, this.baseUrl);
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined) continue;
      for (const x of Array.isArray(v) ? v : [v]) url.searchParams.append(Array.isArray(v) ? `${k}[]` : k, x);
    }
    return (await this.#call(url, { method: "GET" })).data as T;
  }

  async post<T>(path: string, body: unknown): Promise<{ data: T; message: string }> {
    const url = new URL(path, this.baseUrl);
    const r = await this.#call(url, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" },
    });
    return { data: r.data as T, message: r.message };
  }

  async #call(url: URL, init: RequestInit): Promise<{ data: unknown; message: string }> {
    const headers = new Headers(init.headers);
    if (this.token) headers.set("Authorization", `Bearer ${this.token}`);
    let res: Response;
    try {
      res = await fetch(url, { ...init, headers });
    } catch (e) {
      throw new CliError(
        `Cannot reach the Dynamo server at ${this.baseUrl} (${(e as Error).message}); is it running?`,
      );
    }
    const text = await res.text();
    let body: { result?: string; message?: string; data?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      throw new CliError(`Unexpected answer from ${url.pathname} (HTTP ${res.status})`);
    }
    if (!res.ok) throw new CliError(`${body.result ?? res.status}: ${body.message ?? text}`);
    return { data: body.data, message: body.message ?? "" };
  }
}

export function registryFromEnv(
  env: (n: string) => string | undefined,
  server?: string,
  token?: string,
): RegistryClient {
  const base = server ?? env("DYNAMO_URL") ?? `http://${env("DYNAMO_LISTEN") ?? "127.0.0.1:8080"}`;
  const t = token ?? env("DYNAMO_TOKEN");
  return new RegistryClient(base, t);
}
