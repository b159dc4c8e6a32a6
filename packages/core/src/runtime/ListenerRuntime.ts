import type { AddressInfo } from 'node:net';
import type { ListenerConfig } from '../config/schema';
import type { Identity } from '../Identity';
import type { IdentityDirectory } from '../identity/IdentityProvider';
import type { Logger } from '../Logger';
import type { GatewaySession } from '../pipeline/GatewaySession';
import type { RelationCatalog } from '../Relations';
import type { Protocol } from '../Session';

export interface SessionInit {
  /** From `ListenerRuntime.newSessionId()`, allocated when the connection arrived. */
  readonly id: string;
  readonly identity: Identity;
  readonly database: string;
  readonly clientAddress: string;
  readonly clientParameters: Readonly<Record<string, string>>;
  readonly tls: boolean;
}

export interface AuthFailure {
  readonly sessionId: string;
  readonly clientAddress: string;
  readonly claimedUser: string;
  /** For the audit trail and log, never sent to the client (which sees one generic message). */
  readonly reason: string;
}

/** What a protocol adapter gets from the gateway for one listener. */
export interface ListenerRuntime {
  readonly protocol: Protocol;
  readonly config: ListenerConfig;
  readonly logger: Logger;
  readonly identities: IdentityDirectory;
  /** True once shutdown began: new connections get QG_SHUTTING_DOWN. */
  readonly draining: boolean;
  newSessionId(): string;
  /**
   * Checks the access policy, runs onSessionStart hooks and audits the outcome. Resolves to the
   * session, or rejects with a GatewayError (QG_ACCESS_DENIED...) the adapter sends to the client.
   */
  openSession(init: SessionInit): Promise<GatewaySession>;
  /** Audits a failed authentication (auth.failed). */
  authFailed(failure: AuthFailure): void;
  /**
   * True when a plugin uses the relation catalog (masking follows views through it): only then is
   * loading catalog snapshots worth its queries.
   */
  readonly relationsWanted: boolean;
  /** Registers this listener's relation catalog (`RelationCatalogCapability` answers from it). */
  provideRelations(catalog: RelationCatalog): void;
}

/** A protocol adapter's listener, as the gateway drives it. */
export interface ProtocolListener {
  start(): Promise<AddressInfo>;
  /** Stops accepting; existing sessions continue. */
  stopAccepting(): Promise<void>;
  /**
   * Ends sessions: idle ones now, ones running a statement when it completes or at the deadline,
   * whichever is first; clients get QG_SHUTTING_DOWN.
   */
  drain(deadline: number): Promise<void>;
  readonly activeSessions: number;
}

export type ListenerFactory = (runtime: ListenerRuntime) => ProtocolListener;
