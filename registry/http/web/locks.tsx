/** @jsxImportSource hono/jsx */
import { GenericTable } from "./generic_table.tsx";
import type { PageEnv, PageResult } from "./page.ts";
import { textParam } from "./page_params.ts";

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
  return {
    title: "Detox locks",
    body: (
      <>
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
          {locks.length} lock(s). Locks are made with <code>dynamo detox lock</code> or the REST API.
        </p>
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
