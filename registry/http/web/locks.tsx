/** @jsxImportSource hono/jsx */
// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, so no keys
import { GenericTable } from "./generic_table.tsx";
import type { PageEnv, PageResult } from "./page.ts";
import { intParam, textParam } from "./page_params.ts";
import { Banner } from "./layout.tsx";

/** `/web/detox/locks`: the Detox locks in force (or every one), filtered by user or item. */
export async function locksPage(env: PageEnv): Promise<PageResult> {
  const user = textParam(env.url, "user");
  const item = textParam(env.url, "item");
  const showall = env.url.searchParams.get("showall") === "y";
  const locks = await env.api.get<Record<string, string | number | null | string[]>[]>(
    "/data/detox/lock/list",
    {
      user,
      item,
      showall: showall ? "y" : undefined,
    },
  );
  const locked = intParam(env.url, "locked");
  const unlocked = intParam(env.url, "unlocked");
  const csrf = env.ctx.csrf ?? "";
  const active = locks.filter((l) => l.unlocked === null);
  return {
    title: "Detox locks",
    body: (
      <>
        {locked !== undefined ? <Banner kind="info">Lock {locked} made.</Banner> : null}
        {unlocked !== undefined ? <Banner kind="info">Released {unlocked} lock(s).</Banner> : null}
        <form class="filters" method="get" action="/web/detox/locks">
          <label>
            User<input name="user" value={user ?? ""} />
          </label>
          <label>
            Item<input name="item" value={item ?? ""} size={50} />
          </label>
          <label>
            Expired and released too<input type="checkbox" name="showall" value="y" checked={showall} />
          </label>
          <button type="submit">Filter</button>
        </form>
        <p>
          {locks.length} lock(s). Locks are also made with <code>dynamo detox lock</code> or the REST API.
        </p>
        {env.ctx.user === null ? <p class="muted">Sign in (top right) to make or remove locks.</p> : (
          <>
            <form method="post" action="/web/detox/locks/lock" id="lock-form" class="filters">
              <input type="hidden" name="csrf" value={csrf} />
              <label>
                Item<input name="item" size={50} required placeholder="/Primary/Processed/TIER or …#block" />
              </label>
              <label>
                Sites<input name="sites" placeholder="T2_A, T2_B (all if empty)" />
              </label>
              <label>
                Expires<input name="expires" required placeholder="2027-01-31 or Unix seconds" />
              </label>
              <label>
                Comment<input name="comment" />
              </label>
              <button type="submit" id="lock">Lock</button>
            </form>
            {active.length > 0
              ? (
                <form method="post" action="/web/detox/locks/unlock" id="unlock-form" class="filters">
                  <input type="hidden" name="csrf" value={csrf} />
                  <label>
                    Lock
                    <select name="lockid">
                      {active.map((l) => <option value={String(l.lockid)}>{`${l.lockid}: ${l.item}`}
                      </option>)}
                    </select>
                  </label>
                  <button type="submit" id="unlock">Remove</button>
                </form>
              )
              : null}
          </>
        )}
        <GenericTable
          id="locks"
          rows={locks}
          columns={[
            "lockid",
            "item",
            "sites",
            "groups",
            "user",
            "service",
            "comment",
            "created",
            "expires",
            "unlocked",
          ]}
        />
      </>
    ),
  };
}
