/**
 * Sign-in for the web monitor. The browser never holds the API token: signing
 * in checks the token against the registry (`/data/whoami`) and keeps it here,
 * in memory, behind a random session id sent as an HttpOnly, SameSite=Strict
 * cookie. Each session has its own CSRF token, which every form that acts
 * carries; a restart of the service signs everyone out (sessions are not data).
 */
export interface Session {
  readonly id: string;
  readonly token: string;
  readonly user: string;
  readonly csrf: string;
  readonly expiresMs: number;
}

export const SESSION_COOKIE = "dynamo_session";

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export class Sessions {
  readonly #sessions = new Map<string, Session>();

  constructor(readonly ttlMs: number, readonly maxSessions = 10_000) {}

  open(token: string, user: string, nowMs: number): Session {
    this.#sweep(nowMs);
    if (this.#sessions.size >= this.maxSessions) {
      // The oldest goes first (a Map keeps insertion order).
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    const session = { id: randomId(), token, user, csrf: randomId(), expiresMs: nowMs + this.ttlMs };
    this.#sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined, nowMs: number): Session | null {
    if (id === undefined) return null;
    const s = this.#sessions.get(id);
    if (!s) return null;
    if (s.expiresMs <= nowMs) {
      this.#sessions.delete(id);
      return null;
    }
    return s;
  }

  close(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(id);
  }

  #sweep(nowMs: number): void {
    for (const [id, s] of this.#sessions) if (s.expiresMs <= nowMs) this.#sessions.delete(id);
  }
}

/** Constant-time comparison of two strings (the CSRF token). */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
