import type { CopyRequest } from "./copy_request.ts";

/** Items that copy requests still wait for (Detox's `dataset.unhandled_copy_exists`). */
export function unhandledItems(open: readonly CopyRequest[]): string[] {
  return open.flatMap((r) =>
    r.status === "new" ? [...r.items] : r.actions.filter((a) => a.status === "new").map((a) => a.item)
  );
}
