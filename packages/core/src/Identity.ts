/** How querygate established who is on the other end of a session. */
export type AuthMethod =
  /** A local user from `identities.users`, proven by SCRAM / caching_sha2 / native password. */
  | 'local'
  /** An OIDC/JWT token verified against a configured issuer. */
  | 'oidc'
  /** A short-lived credential minted by the token-exchange endpoint from an OIDC token. */
  | 'exchanged';

/**
 * Who a session acts for. Startup parameters the client sends (user name, application_name) are
 * claims to record, never identity: only `subject` and `groups` are used for decisions.
 */
export interface Identity {
  readonly subject: string;
  readonly groups: readonly string[];
  readonly method: AuthMethod;
  /** The token's issuer for `oidc` / `exchanged`. */
  readonly issuer?: string;
  /** Verified claims (OIDC) or configured attributes (local users). Never secrets. */
  readonly claims: Readonly<Record<string, unknown>>;
}
