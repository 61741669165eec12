/**
 * What a new copy or deletion request names must exist, as the original
 * registry checked before recording it ("Invalid item name", "Invalid site
 * name", "Invalid group name"): a request for data nobody has is refused at
 * once with the reason, instead of being accepted and rejected later.
 * Site patterns (`*`, `?`) are allowed to match nothing yet.
 */
import type { Snapshot } from "../inventory/mod.ts";
import { resolveItem } from "./request_item.ts";

export interface UnknownTarget {
  /** The request parameter at fault. */
  param: "item" | "site" | "group";
  reason: string;
}

export function unknownTarget(
  snapshot: Snapshot,
  request: { items: readonly string[]; sites: readonly string[]; group?: string | null },
): UnknownTarget | null {
  for (const item of request.items) {
    const resolved = resolveItem(snapshot, item);
    if (typeof resolved === "string") return { param: "item", reason: `invalid item name: ${resolved}` };
  }
  for (const site of request.sites) {
    if (/[*?]/.test(site)) continue;
    if (!snapshot.site(site)) {
      return { param: "site", reason: `invalid site name: unknown site ${JSON.stringify(site)}` };
    }
  }
  if (request.group !== undefined && request.group !== null && !snapshot.group(request.group)) {
    return { param: "group", reason: `invalid group name: unknown group ${JSON.stringify(request.group)}` };
  }
  return null;
}
