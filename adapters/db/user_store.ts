import { createHash } from "node:crypto";
import { CompiledQuery } from "kysely";
import { hasControlCharacters } from "../../registry/inventory/mod.ts";
import type { Database } from "./database.ts";
import { ownerDnCandidates } from "./proxy_dn.ts";
import type {
  Authorization,
  NewUser,
  Principal,
  Role,
  Target,
  UserInfo,
  UserStore,
} from "./user_store_port.ts";

const TOKEN_PREFIX = "dyn_";

/**
 * Users in the database. Tokens are 256 random bits; only their SHA-256 is
 * stored (the token is shown once), which is sufficient for secrets of that
 * entropy and keeps authentication to one indexed lookup.
 */
export class SqlUserStore implements UserStore {
  #tokenLookup: CompiledQuery | null = null;

  constructor(private readonly db: Database) {}

  /**
   * The tokens authenticated in this process (see `TokenCache`), shared by every store over the same
   * database; null while it may not be used (PostgreSQL, until this process listens for changes).
   */
  #usableCache(nowMs: number): TokenCache | null {
    const cache = this.#cache();
    if (this.db.kind === "pglite") return cache;
    if (cache.listening === "yes") return cache;
    if (cache.listening === "no") this.#listen(cache, nowMs);
    return null;
  }

  /**
   * Starts listening for changes to users, roles and tokens (PostgreSQL: the tokens this process
   * authenticates are then kept for `TOKEN_CACHE_TTL_MS`); resolves to whether it listens. The first
   * authentication starts it too; a lost listener is started again by the next one.
   */
  async listenForTokenChanges(nowMs: number): Promise<boolean> {
    if (this.#usableCache(nowMs)) return true;
    await this.#cache().started;
    return this.#usableCache(nowMs) !== null;
  }

  /** Resolves the next time every cached token is forgotten (a change, a lost listener). For tests. */
  tokensForgotten(): Promise<void> {
    const cache = this.#cache();
    return new Promise((resolve) => cache.onForget.add(resolve));
  }

  #cache(): TokenCache {
    let cache = TOKEN_CACHES.get(this.db);
    if (!cache) {
      cache = new TokenCache(this.db.kind === "postgres" ? TOKEN_CACHE_TTL_MS : null);
      TOKEN_CACHES.set(this.db, cache);
    }
    return cache;
  }

  #listen(cache: TokenCache, nowMs: number): void {
    const subscribe = this.db.subscribe;
    if (!subscribe || nowMs < cache.retryAtMs) return;
    cache.listening = "starting";
    // An attempt whose connection was lost before it was ready may resolve after the next one has
    // begun: only the latest attempt may say whether this process listens.
    const attempt = ++cache.attempt;
    const current = () => cache.attempt === attempt;
    // The trigger names the schema of the table written; ours is where this connection's search_path finds
    // the tables (not necessarily `db.schema`: a search_path may come with the URL). Until it is known,
    // every notification forgets.
    let ours: string | null = null;
    const subscribed = subscribe.call(
      this.db,
      USER_CHANGE_CHANNEL,
      (payload) => {
        if (ours === null || payload === ours) cache.forget(); // not another schema's users
      },
      () => {
        if (current()) cache.listening = "no";
        cache.forget();
      },
    );
    const schema = this.db.queryArrays("SELECT current_schema()");
    cache.started = Promise.all([subscribed, schema]).then(
      ([, rows]) => {
        ours = String(rows[0]![0]);
        // Lost before it was ready: onLost has run and left it at "no" (or a later attempt has begun).
        if (current() && cache.listening === "starting") cache.listening = "yes";
      },
      () => {
        subscribed.then((unsubscribe) => unsubscribe(), () => {}).catch(() => {});
        if (!current()) return;
        cache.listening = "no";
        cache.retryAtMs = nowMs + LISTEN_RETRY_MS;
      },
    );
  }

  async addUser(user: NewUser, nowMs: number): Promise<{ token: string }> {
    checkUserName(user.name);
    if (user.email !== undefined && (user.email.length > 320 || hasControlCharacters(user.email))) {
      throw new TypeError(`Invalid email "${user.email}"`);
    }
    if (user.dn !== undefined && (user.dn.length > 1000 || hasControlCharacters(user.dn))) {
      throw new TypeError("Invalid DN");
    }
    const token = TOKEN_PREFIX + base64url(crypto.getRandomValues(new Uint8Array(32)));
    const hash = sha256Hex(token);
    await this.#write(() =>
      this.db.transaction(async (tx) => {
        let row = await tx.selectFrom("users").select(["id", "revoked_ms"]).where("name", "=", user.name)
          .executeTakeFirst();
        if (!row) {
          row = await tx.insertInto("users").values({
            name: user.name,
            email: user.email ?? null,
            dn: user.dn ?? null,
            created_ms: nowMs,
            revoked_ms: null,
          }).returning(["id", "revoked_ms"]).executeTakeFirstOrThrow();
        } else {
          await tx.updateTable("users").set({
            revoked_ms: null,
            ...(user.email !== undefined ? { email: user.email } : {}),
            ...(user.dn !== undefined ? { dn: user.dn } : {}),
          }).where("id", "=", row.id).execute();
        }
        for (const a of user.authorizations) {
          await tx.insertInto("user_roles").values({ user_id: row.id, role: a.role, target: a.target })
            .onConflict((oc) => oc.doNothing()).execute();
        }
        await tx.insertInto("user_tokens").values({
          user_id: row.id,
          token_hash: hash,
          created_ms: nowMs,
          revoked_ms: null,
          last_used_ms: null,
        }).execute();
      })
    );
    return { token };
  }

  async listUsers(): Promise<UserInfo[]> {
    const users = await this.db.kysely.selectFrom("users").selectAll().orderBy("name").execute();
    const roles = await this.db.kysely.selectFrom("user_roles").selectAll().execute();
    const tokens = await this.db.kysely.selectFrom("user_tokens").select(["user_id"]).where(
      "revoked_ms",
      "is",
      null,
    ).execute();
    return users.map((u) => ({
      name: u.name,
      email: u.email,
      dn: u.dn,
      createdMs: u.created_ms,
      revoked: u.revoked_ms !== null,
      authorizations: roles.filter((r) => r.user_id === u.id).map((r) => ({
        role: r.role as Role,
        target: r.target as Target,
      })),
      activeTokens: tokens.filter((t) => t.user_id === u.id).length,
    }));
  }

  async revokeUser(name: string, nowMs: number): Promise<boolean> {
    return await this.#write(() =>
      this.db.transaction(async (tx) => {
        const user = await tx.selectFrom("users").select("id").where("name", "=", name).where(
          "revoked_ms",
          "is",
          null,
        )
          .executeTakeFirst();
        if (!user) return false;
        await tx.updateTable("users").set({ revoked_ms: nowMs }).where("id", "=", user.id).execute();
        await tx.updateTable("user_tokens").set({ revoked_ms: nowMs }).where("user_id", "=", user.id)
          .where("revoked_ms", "is", null).execute();
        return true;
      })
    );
  }

  /** A write to users, roles or tokens: what was cached is forgotten once it is done. */
  async #write<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      TOKEN_CACHES.get(this.db)?.forget();
    }
  }

  /**
   * One indexed lookup (token, user and roles together). The token's `last_used_ms` is
   * written only when it is unset or older than `LAST_USED_RESOLUTION_MS`: a write (a
   * commit, on PostgreSQL a WAL flush) per request would cost more than the request.
   */
  async authenticateToken(token: string, nowMs: number): Promise<Principal | null> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 100) return null;
    const hash = sha256Hex(token);
    const cache = this.#usableCache(nowMs);
    const cached = cache?.get(hash, nowMs);
    if (cached) {
      if (lastUsedIsStale(cached.lastUsedMs, nowMs)) {
        await this.db.kysely.updateTable("user_tokens").set({ last_used_ms: nowMs })
          .where("id", "=", cached.tokenId).execute();
        cached.lastUsedMs = nowMs;
      }
      return cached.principal;
    }
    const version = cache?.version;
    // Compiled once: building the query's SQL on every request was ~40 % of authentication's CPU.
    const lookup = this.#tokenLookup ??= this.db.kysely.selectFrom("user_tokens")
      .innerJoin("users", "users.id", "user_tokens.user_id")
      .leftJoin("user_roles", "user_roles.user_id", "users.id")
      .select([
        "users.name as name",
        "user_tokens.id as token_id",
        "user_tokens.last_used_ms as last_used_ms",
        "user_roles.role as role",
        "user_roles.target as target",
      ])
      .where("user_tokens.token_hash", "=", "")
      .where("user_tokens.revoked_ms", "is", null).where("users.revoked_ms", "is", null)
      .compile();
    // The hash is bound as the statement's only parameter: a condition added above with a value of its
    // own would shift it.
    if (lookup.parameters.length !== 1) throw new Error("the token lookup must have one parameter");
    const { rows } = await this.db.kysely.executeQuery<TokenRow>(CompiledQuery.raw(lookup.sql, [hash]));
    const first = rows[0];
    if (!first) return null;
    let lastUsedMs = first.last_used_ms;
    if (lastUsedIsStale(lastUsedMs, nowMs)) {
      await this.db.kysely.updateTable("user_tokens").set({ last_used_ms: nowMs })
        .where("id", "=", first.token_id).execute();
      lastUsedMs = nowMs;
    }
    // Frozen: a cached principal is handed to every request with this token.
    const principal: Principal = Object.freeze({
      user: first.name,
      authorizations: Object.freeze(
        rows.flatMap((r) =>
          r.role === null || r.target === null
            ? []
            : [Object.freeze({ role: r.role as Role, target: r.target as Target })]
        ),
      ) as Authorization[],
    });
    if (cache && version !== undefined) {
      cache.put(hash, version, { principal, tokenId: first.token_id, lastUsedMs, cachedMs: nowMs });
    }
    return principal;
  }

  async authenticateDn(dn: string): Promise<Principal | null> {
    // A proxy's subject is its owner's DN plus proxy components; nothing else is stripped.
    for (const candidate of ownerDnCandidates(dn)) {
      const row = await this.db.kysely.selectFrom("users").select(["id", "name"]).where("dn", "=", candidate)
        .where("revoked_ms", "is", null).executeTakeFirst();
      if (row) return { user: row.name, authorizations: await this.#authorizations(row.id) };
    }
    return null;
  }

  async #authorizations(userId: number): Promise<Authorization[]> {
    const rows = await this.db.kysely.selectFrom("user_roles").select(["role", "target"]).where(
      "user_id",
      "=",
      userId,
    )
      .execute();
    return rows.map((r) => ({ role: r.role as Role, target: r.target as Target }));
  }
}

interface CachedToken {
  readonly principal: Principal;
  readonly tokenId: number;
  /** When it was looked up (the caller's clock). */
  readonly cachedMs: number;
  lastUsedMs: number | null;
}

/**
 * Authenticated tokens, by hash, forgotten after every write to users, roles or tokens through any
 * `SqlUserStore` over the same `Database` object (a revocation in this process takes effect at once).
 * Only tokens that authenticated are kept: an unknown or hostile token is asked every time and can
 * evict nothing but by clearing, which a full cache does.
 *
 * - PGlite belongs to this process alone (its data directory is locked), so no other change can
 *   happen: the cache is used always and kept until the next write. It spares each request a query
 *   that would wait behind the inventory's commit (PGlite runs one statement at a time).
 * - PostgreSQL is shared with other processes (the CLI, other nodes). A trigger notifies
 *   `dynamo_users` in the transaction of every write to users, roles and tokens (migration 013),
 *   and this process forgets its tokens when that notification arrives: a revocation elsewhere
 *   takes effect here as soon as its notification is delivered (milliseconds), where Rucio's token
 *   cache keeps a revoked token up to 15 minutes. Tokens are used from the cache only while the
 *   listening connection is up, and only lookups begun while it was up are kept; its loss forgets
 *   everything. A connection that dies without the kernel noticing delivers nothing and reports
 *   nothing: `TOKEN_CACHE_TTL_MS` bounds that case (a token is looked up again after it).
 */
class TokenCache {
  /** Changes whenever a write to users may have committed; a lookup begun before is not kept. */
  version = 0;
  /** PostgreSQL: whether the listener is up; PGlite: unused. */
  listening: "no" | "starting" | "yes" = "no";
  /** PostgreSQL: counts the attempts to listen; the latest is the one `listening` describes. */
  attempt = 0;
  started: Promise<void> = Promise.resolve();
  /** After a failed LISTEN, when to try again (the caller's clock). */
  retryAtMs = -Infinity;
  readonly onForget = new Set<() => void>();
  readonly #tokens = new Map<string, CachedToken>();

  constructor(private readonly ttlMs: number | null) {}

  get(hash: string, nowMs: number): CachedToken | undefined {
    const token = this.#tokens.get(hash);
    if (!token || this.ttlMs === null || isFresh(token.cachedMs, nowMs, this.ttlMs)) return token;
    this.#tokens.delete(hash);
    return undefined;
  }

  put(hash: string, version: number, token: CachedToken): void {
    if (version !== this.version) return;
    if (this.#tokens.size >= MAX_CACHED_TOKENS) this.#tokens.clear();
    this.#tokens.set(hash, token);
  }

  forget(): void {
    this.version += 1;
    this.#tokens.clear();
    const waiting = [...this.onForget];
    this.onForget.clear();
    for (const resolve of waiting) resolve();
  }
}

const MAX_CACHED_TOKENS = 10_000;
const TOKEN_CACHES = new WeakMap<Database, TokenCache>();

/** Notified by the trigger of migration 013, with the schema as payload. */
const USER_CHANGE_CHANNEL = "dynamo_users";

/**
 * PostgreSQL: how long an authenticated token is used from memory at most, for a listener that
 * died unnoticed. Changes reach the cache through the listener long before.
 */
export const TOKEN_CACHE_TTL_MS = 5_000;

/** PostgreSQL: after a LISTEN failed, tokens are looked up every time for this long before it is tried again. */
const LISTEN_RETRY_MS = 1_000;

/** Whether a token looked up at `cachedMs` may still be used at `nowMs` (a clock set back: no). */
export function isFresh(cachedMs: number, nowMs: number, ttlMs: number): boolean {
  return nowMs >= cachedMs && nowMs - cachedMs < ttlMs;
}

/** How precisely a token's `last_used_ms` is kept. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** Whether a token's stored last use (`null`: never) is to be rewritten at `nowMs`. */
export function lastUsedIsStale(lastUsedMs: number | null, nowMs: number): boolean {
  return lastUsedMs === null || nowMs - lastUsedMs >= LAST_USED_RESOLUTION_MS || nowMs < lastUsedMs;
}

function checkUserName(name: string): void {
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) {
    throw new TypeError(`User names are 1-64 letters, digits, "_", ".", "@" or "-", got "${name}"`);
  }
}

interface TokenRow {
  name: string;
  token_id: number;
  last_used_ms: number | null;
  role: string | null;
  target: string | null;
}

/**
 * Synchronous: WebCrypto's `digest` hands every call to a worker thread and back, 120–470 µs of
 * this thread per token on the bench machine (~10 % of an injection's CPU), against ~2 µs here.
 */
function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
