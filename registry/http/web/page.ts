import type { Child } from "hono/jsx";
import type { ApiClient } from "./api_client.ts";
import type { PageContext } from "./layout.tsx";
import type { Session } from "./session.ts";

export interface WebDeps {
  api: ApiClient;
  /** The service clock (ms), for ages and staleness. */
  now: () => number;
  staleAfterMs: number;
}

/** What a page handler gets: the REST client, the clock, and who is asking. */
export interface PageEnv extends WebDeps {
  ctx: PageContext;
  session: Session | null;
  url: URL;
}

export interface PageResult {
  title: string;
  body: Child;
  status?: number;
}

export type Page = (env: PageEnv) => Promise<PageResult>;

/** An optional part of the registry (Detox, Dealer, file operations) may not be configured: its routes 404. */
export async function optional<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (e) {
    if ((e as { status?: number }).status === 404) return null;
    throw e;
  }
}
