/** Who a request comes from: a bearer token or a client certificate DN, resolved to a principal. */
export interface Authenticator {
  /** The principal holding this token, or null (unknown or expired). */
  authenticateToken(token: string): Promise<Principal | null>;
  /** The principal registered for this certificate DN, or null. */
  authenticateDn(dn: string): Promise<Principal | null>;
}

export interface Principal {
  readonly user: string;
  readonly authorizations: readonly { readonly role: string; readonly target: string }[];
}
