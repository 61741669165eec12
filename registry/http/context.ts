import type { Context } from "hono";
import { HttpError, REASONS } from "./errors.ts";
import type { Principal } from "./authenticator.ts";

export type AppEnv = {
  Variables: {
    principal: Principal | null;
    requestId: string;
  };
};

/** The Dynamo envelope: `{result, message, data}`. */
export function ok(c: Context<AppEnv>, data: unknown, message = "") {
  return c.json({ result: REASONS[200], message, data });
}

export function envelope(status: number, message: string, data: unknown = null) {
  return { result: REASONS[status] ?? "Error", message, data };
}

/**
 * The caller, who must hold one of `roles` on `target`. Anonymous callers get
 * 401 (authenticate), authenticated ones without the role 403.
 */
/** The authenticated user's name; 401 without one. */
export function requireAuthenticated(c: Context<AppEnv>): string {
  const principal = c.get("principal");
  if (!principal) {
    throw new HttpError(401, "This operation needs authentication: send Authorization: Bearer <token>");
  }
  return principal.user;
}

/** Whether the principal is an admin of a target (may act on other users' requests and locks). */
export function isAdmin(principal: Principal | null | undefined, target: string): boolean {
  return principal?.authorizations.some((a) => a.target === target && a.role === "admin") ?? false;
}

export function requireRole(c: Context<AppEnv>, target: string, roles: readonly string[]): Principal {
  const principal = c.get("principal");
  if (!principal) {
    throw new HttpError(401, "This operation needs authentication: send Authorization: Bearer <token>");
  }
  if (!principal.authorizations.some((a) => a.target === target && roles.includes(a.role))) {
    throw new HttpError(403, `User "${principal.user}" needs role ${roles.join(" or ")} on "${target}"`);
  }
  return principal;
}
