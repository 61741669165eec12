/**
 * Polling requests by several items, sites or users at once, as the original
 * `dynamo-request --poll` sends them (`item[]=a&item[]=b&site[]=…&user[]=…`):
 * a request matches when it names any of the items, any of the sites (or a
 * pattern it listed matches one), and was made by any of the users. As in the
 * original, a poll by item and site shows only the newest request unless
 * `all` is asked for.
 */
import { compileGlob } from "../inventory/mod.ts";

export interface PollSelection {
  items?: readonly string[];
  sites?: readonly string[];
  users?: readonly string[];
  all?: boolean;
}

interface Polled {
  readonly id: number;
  readonly user: string;
  readonly items: readonly string[];
  readonly sites: readonly string[];
}

/** The rows (newest first) that match the selection. */
export function selectPolled<T extends Polled>(rows: readonly T[], s: PollSelection): T[] {
  const out = rows.filter((r) =>
    (!s.items?.length || s.items.some((item) => r.items.includes(item))) &&
    (!s.sites?.length || s.sites.some((site) => namesSite(r.sites, site))) &&
    (!s.users?.length || s.users.includes(r.user))
  );
  return s.all || !(s.items?.length && s.sites?.length) ? out : out.slice(0, 1);
}

function namesSite(listed: readonly string[], site: string): boolean {
  return listed.some((p) => p === site || compileGlob(p).test(site));
}
