/** A site name as part of an actor id: characters an id may not hold become @XX. */
export function idPart(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, (c) => `@${c.charCodeAt(0).toString(16)}`);
}

/** Where a site's actor lives (one per site of the inventory, under the /sites supervisor). */
export function siteAddress(name: string): string {
  return `/sites/${idPart(name)}`;
}
