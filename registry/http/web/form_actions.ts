/**
 * The monitor's actions on locks and requests. Each runs after the caller has
 * checked the session, the origin and the CSRF token (web_app.tsx `action`),
 * and goes to the REST API as the signed-in user: REST validates the values
 * and applies its roles, and its refusal (status and message) is what the page
 * shows. Here only the form's shape is checked (one value per field, ids are
 * numbers, lists split on commas and white space).
 */
import { href } from "./format.ts";
import type { PageEnv } from "./page.ts";
import { WebInputError } from "./web_input_error.ts";

type Form = Record<string, string | string[]>;

/** One text field of a form: absent or empty is undefined; repeated is refused. */
function field(form: Form, name: string): string | undefined {
  const v = form[name];
  if (Array.isArray(v)) throw new WebInputError(`Give one ${name}`);
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

function required(form: Form, name: string): string {
  const v = field(form, name);
  if (v === undefined) throw new WebInputError(`Give the ${name}`);
  return v;
}

/** A list typed into one field: "T2_A, T2_B" or "T2_A T2_B". */
function list(form: Form, name: string): string[] | undefined {
  const v = field(form, name);
  return v === undefined ? undefined : v.split(/[\s,]+/).filter((x) => x !== "");
}

function id(form: Form, name: string): string {
  const v = required(form, name);
  if (!/^\d{1,15}$/.test(v)) throw new WebInputError(`Not an id: ${JSON.stringify(v.slice(0, 50))}`);
  return v;
}

/** POST /web/detox/locks/lock: `/data/detox/lock/lock` with item, sites, expires, comment. */
export async function createLock(env: PageEnv, form: Form): Promise<string> {
  const lock = await env.api.post<{ lockid: number }>("/data/detox/lock/lock", {
    item: required(form, "item"),
    expires: required(form, "expires"),
    sites: list(form, "sites"),
    comment: field(form, "comment"),
  }, env.session!.token);
  return href("/web/detox/locks", { locked: lock.lockid });
}

/** POST /web/detox/locks/unlock: `/data/detox/lock/unlock` with one lock id. */
export async function removeLock(env: PageEnv, form: Form): Promise<string> {
  const r = await env.api.post<{ unlocked: number }>(
    "/data/detox/lock/unlock",
    { lockid: [id(form, "lockid")] },
    env.session!.token,
  );
  return href("/web/detox/locks", { unlocked: r.unlocked });
}

/** POST /web/requests/copy and /web/requests/deletion: a new request, then its page. */
export function makeRequest(kind: "copy" | "deletion") {
  return async (env: PageEnv, form: Form): Promise<string> => {
    const [r] = await env.api.post<{ request_id: number }[]>(
      kind === "copy" ? "/data/request/copy" : "/data/request/delete",
      {
        item: list(form, "item") ?? required(form, "item"),
        site: list(form, "site") ?? required(form, "site"),
      },
      env.session!.token,
    );
    return `/web/requests/${kind}/${r!.request_id}`;
  };
}

/** POST /web/requests/copy/:id/cancel: `/data/request/cancelcopy` (the requester or an admin). */
export async function cancelCopy(env: PageEnv, form: Form): Promise<string> {
  const requestId = id(form, "request_id");
  await env.api.post("/data/request/cancelcopy", { request_id: requestId }, env.session!.token);
  return `/web/requests/copy/${requestId}`;
}
