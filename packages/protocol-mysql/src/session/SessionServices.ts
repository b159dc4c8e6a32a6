import type { SecureContext } from 'node:tls';
import type { ListenerRuntime } from '@querygate/core';
import type { MysqlAnalyzer } from '../analysis/MysqlAnalyzer';
import type { HandshakeV10 } from '../codec/messages';
import type { ClientSession } from './ClientSession';
import type { MysqlRelations } from './Relations';

/** Client-side authentication plugin announced in the handshake. */
export type AuthPluginName = 'caching_sha2_password' | 'mysql_native_password';

export interface MysqlListenerOptions {
  /** Plugin announced in the initial handshake (default caching_sha2_password, like MySQL 8). */
  readonly authPlugin?: AuthPluginName;
  /** Largest client payload accepted, in bytes (default 64 MB); larger ends the session. */
  readonly maxPacketSize?: number;
  /** Time a client has to finish the handshake and authentication (default 30 s). */
  readonly authTimeoutMs?: number;
}

/** What each client session gets from its listener. */
export interface SessionServices {
  readonly runtime: ListenerRuntime;
  readonly analyzer: MysqlAnalyzer;
  /** The listener's relation catalog, kept only when a plugin uses it (masking). */
  readonly relations: MysqlRelations | undefined;
  readonly publicKeyPem: string;
  readonly privateKeyPem: string;
  readonly secureContext: SecureContext | undefined;
  readonly authPlugin: AuthPluginName;
  readonly maxPacketSize: number;
  readonly authTimeoutMs: number;
  /** The upstream's greeting (version, capabilities, charset), probed once and cached. */
  serverInfo(): Promise<HandshakeV10>;
  /** A live session by the connection id querygate gave it (for KILL). */
  session(connectionId: number): ClientSession | undefined;
  closed(session: ClientSession): void;
}
