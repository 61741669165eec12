/**
 * What file operations a site's status allows (spec §1: "morgue = being
 * evacuated"). A site in morgue still serves reads, so that its unique data can
 * be copied away, and still deletes, so that it can be emptied; it receives no
 * new copies. A site in waitroom (downtime) or of unknown status does nothing.
 */
export type SiteUse = "receive" | "serve" | "delete";

export function siteAllows(status: string, use: SiteUse): boolean {
  if (status === "ready") return true;
  return status === "morgue" && use !== "receive";
}

/** Any file work at all (the site actor's slot); the planner decides which kind. */
export function siteWorkable(status: string): boolean {
  return siteAllows(status, "serve") || siteAllows(status, "delete");
}
