/** Users, their roles per target, and bearer tokens (spec §8.1; tokens replace client certificates). */
export const ROLES = ["admin", "operator"] as const;
export type Role = typeof ROLES[number];
export const TARGETS = ["inventory", "registry", "application", "history"] as const;
export type Target = typeof TARGETS[number];

export interface Authorization {
  readonly role: Role;
  readonly target: Target;
}

/** An authenticated caller. */
export interface Principal {
  readonly user: string;
  readonly authorizations: readonly Authorization[];
}

export interface UserInfo {
  readonly name: string;
  readonly email: string | null;
  readonly dn: string | null;
  readonly createdMs: number;
  readonly revoked: boolean;
  readonly authorizations: readonly Authorization[];
  readonly activeTokens: number;
}

export interface NewUser {
  readonly name: string;
  readonly email?: string;
  readonly dn?: string;
  readonly authorizations: readonly Authorization[];
}

export interface UserStore {
  /** Creates the user (or adds roles to an existing one) and issues a new token, returned once. */
  addUser(user: NewUser, nowMs: number): Promise<{ token: string }>;
  listUsers(): Promise<UserInfo[]>;
  /** Revokes the user and all their tokens. */
  revokeUser(name: string, nowMs: number): Promise<boolean>;
  authenticateToken(token: string, nowMs: number): Promise<Principal | null>;
  /** A client certificate DN passed by a trusted proxy; proxy suffixes are stripped progressively. */
  authenticateDn(dn: string): Promise<Principal | null>;
}

/** Parses `role:target`, e.g. `admin:inventory`. */
export function parseAuthorization(text: string): Authorization {
  const [role, target, extra] = text.split(":");
  if (extra !== undefined || !ROLES.includes(role as Role) || !TARGETS.includes(target as Target)) {
    throw new TypeError(
      `Role must be ROLE:TARGET with ROLE one of ${ROLES.join(", ")} and TARGET one of ${
        TARGETS.join(", ")
      }, got "${text}"`,
    );
  }
  return { role: role as Role, target: target as Target };
}

export function hasRole(p: Principal | null, target: Target, roles: readonly Role[] = ROLES): boolean {
  return !!p && p.authorizations.some((a) => a.target === target && roles.includes(a.role));
}
