/** What a caller may be allowed to do; the IdP puts them in the token's `roles` claim. */
export const ROLES = ['customer', 'admin', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as the verified access token says. */
export interface Caller {
  /** The token's `sub`: a user, or the client id of a service calling as itself. */
  subject: string;
  /** The token's `email` claim, when it has one. */
  email: string | undefined;
  roles: ReadonlySet<Role>;
}
