import type { Identity } from './Identity';

export type Protocol = 'postgres' | 'mysql';

/** A client session as hooks see it: a read-only snapshot plus a place for per-session plugin state. */
export interface Session {
  readonly id: string;
  readonly identity: Identity;
  readonly protocol: Protocol;
  /** Name of the listener (config `listeners[].name`). */
  readonly listener: string;
  /** Target database (PostgreSQL database / MySQL default schema at connect). */
  readonly database: string;
  readonly clientAddress: string;
  readonly startedAt: Date;
  /** Startup parameters as the client sent them (user, application_name, ...): claims, not identity. */
  readonly clientParameters: Readonly<Record<string, string>>;
  readonly tls: boolean;
  /**
   * Per-session state shared between a plugin's hooks (and, explicitly, between plugins).
   * Key it with a Symbol you own to avoid collisions.
   */
  readonly state: Map<symbol | string, unknown>;
}
