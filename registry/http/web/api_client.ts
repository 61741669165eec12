/**
 * The web monitor reads through the registry's own REST API, in process: the
 * pages show exactly what `/data/...` answers (no second query path to drift).
 */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

export type Fetch = (request: Request) => Response | Promise<Response>;

export type Params = Record<string, string | number | boolean | undefined | null | readonly string[]>;

export class ApiClient {
  constructor(readonly fetch: Fetch) {}

  static query(params: Params): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null || v === "") continue;
      if (Array.isArray(v)) { for (const x of v) q.append(k, x); }
      else q.set(k, typeof v === "boolean" ? (v ? "y" : "n") : String(v));
    }
    const s = q.toString();
    return s ? `?${s}` : "";
  }

  /** The `data` of a GET; throws ApiError with the registry's message otherwise. */
  async get<T>(path: string, params: Params = {}): Promise<T> {
    return await this.#call<T>(new Request(`http://web.internal${path}${ApiClient.query(params)}`));
  }

  /** The text of a GET that is not enveloped (`/metrics`). */
  async text(path: string): Promise<string> {
    const res = await this.fetch(new Request(`http://web.internal${path}`));
    if (!res.ok) throw new ApiError(res.status, `${path}: ${res.status}`);
    return await res.text();
  }

  /** A POST as the signed-in user. */
  async post<T>(path: string, params: Params, token: string): Promise<T> {
    return await this.#call<T>(
      new Request(`http://web.internal${path}${ApiClient.query(params)}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}` },
      }),
    );
  }

  async whoami(token: string): Promise<string | null> {
    const res = await this.fetch(
      new Request("http://web.internal/data/whoami", { headers: { Authorization: `Bearer ${token}` } }),
    );
    if (!res.ok) return null;
    const body = await res.json();
    return typeof body?.data?.user === "string" ? body.data.user : null;
  }

  async #call<T>(request: Request): Promise<T> {
    const res = await this.fetch(request);
    let body: { message?: unknown; data?: unknown } | null = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (!res.ok) {
      throw new ApiError(res.status, typeof body?.message === "string" ? body.message : `HTTP ${res.status}`);
    }
    return body?.data as T;
  }
}
