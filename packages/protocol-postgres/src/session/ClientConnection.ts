import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import {
  GatewayError, IdentityRejected,
  type GatewaySession, type Identity, type ListenerRuntime, type ScramVerifier,
} from '@querygate/core';
import type { PostgresAnalyzer } from '../analysis/PostgresAnalyzer';
import { Framer } from '../codec/Framer';
import { Frontend } from '../codec/messages';
import { parsePassword, parseSaslInitialResponse, parseSaslResponse, parseStartupPacket } from '../codec/parser';
import {
  authenticationCleartextPassword, authenticationOk, authenticationSasl, authenticationSaslContinue, authenticationSaslFinal,
  backendKeyData, negotiateProtocolVersion, readyForQuery,
} from '../codec/serializer';
import type { Catalog } from './Catalog';
import type { PostgresRelations } from './Relations';
import { errorMessage } from './errors';
import { ProxySession } from './ProxySession';
import { ScramServerExchange } from './ScramServerExchange';
import { connectUpstream, type UpstreamLink } from './UpstreamConnector';
import { UpstreamStartupError } from './UpstreamStartupError';

/** What a connection needs from its listener. */
export interface ConnectionHost {
  readonly runtime: ListenerRuntime;
  readonly analyzer: PostgresAnalyzer;
  readonly catalog: Catalog;
  /** Present when a plugin follows views through the catalog. */
  readonly relations: PostgresRelations | undefined;
  readonly secureContext: SecureContext | undefined;
  /** Allocates this session's BackendKeyData and registers it for CancelRequests. */
  register(connection: ClientConnection): { processId: number; secretKey: number };
  cancel(processId: number, secretKey: number): void;
  closed(connection: ClientConnection): void;
}

const HANDSHAKE_TIMEOUT_MS = 60_000;

/** Startup parameters never forwarded upstream: querygate sets them, or they change what the session is. */
const NOT_FORWARDED = new Set(['user', 'database', 'replication']);
/** Settings a client may not pass through `options`: they would change the effective identity unjudged. */
const UNSAFE_OPTION = /\b(role|session_authorization)\b/i;

type Phase = 'startup' | 'auth' | 'connecting' | 'ready' | 'closed';

/**
 * One client connection from accept to close: SSL negotiation, startup, authentication (SCRAM for
 * local users, cleartext token otherwise), session opening and upstream login; then hands the
 * sockets to a ProxySession.
 */
export class ClientConnection {
  private socket: Socket;
  private readonly framer = new Framer(true);
  private phase: Phase = 'startup';
  private tls = false;
  private proxy: ProxySession | undefined;
  private waiter: (() => void) | undefined;
  private ended = false;
  private readonly timer: NodeJS.Timeout;
  readonly sessionId: string;
  readonly clientAddress: string;

  constructor(socket: Socket, private readonly host: ConnectionHost) {
    this.socket = socket;
    this.sessionId = host.runtime.newSessionId();
    this.clientAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.timer = setTimeout(() => this.refuse(new GatewayError('QG_PROTOCOL_VIOLATION', 'the client did not complete startup in time')), HANDSHAKE_TIMEOUT_MS);
    this.timer.unref();
  }

  get isReady(): boolean { return this.phase === 'ready'; }

  start(): void {
    this.socket.setNoDelay(true);
    this.watch(this.socket);
    void this.handshake();
  }

  cancel(): void { this.proxy?.cancel(); }

  /** Graceful shutdown (drain). */
  shutdown(): void {
    if (this.proxy) this.proxy.shutdown();
    else this.refuse(new GatewayError('QG_SHUTTING_DOWN'));
  }

  /** Deadline reached: close now. */
  forceClose(): void {
    if (this.proxy) this.proxy.terminate(new GatewayError('QG_SHUTTING_DOWN'), 'shutdown');
    else this.refuse(new GatewayError('QG_SHUTTING_DOWN'));
  }

  private readonly onData = (chunk: Buffer): void => {
    this.framer.push(chunk);
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  };

  private readonly onClose = (): void => {
    if (this.phase === 'ready') return; // the proxy handles its own endings
    this.finish();
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  };

  private watch(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('error', (err) => this.host.runtime.logger.debug('client socket error', { sessionId: this.sessionId, error: err.message }));
    socket.on('close', this.onClose);
  }

  /** The next complete message (a view into the framer's buffer; valid until the next read). */
  private async read(): Promise<{ type: number; buf: Buffer; bodyStart: number; end: number }> {
    for (;;) {
      if (this.ended) throw new ClientGone();
      if (this.framer.next()) {
        const f = this.framer;
        return { type: f.type, buf: f.buffer, bodyStart: f.bodyStart, end: f.end };
      }
      await new Promise<void>((resolve) => { this.waiter = resolve; });
    }
  }

  private write(buf: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(buf);
  }

  private async handshake(): Promise<void> {
    const { runtime } = this.host;
    const config = runtime.config;
    let gs: GatewaySession | undefined;
    try {
      // ---- startup: SSL / GSS negotiation, cancel, StartupMessage
      let parameters: Readonly<Record<string, string>> | undefined;
      while (parameters === undefined) {
        const m = await this.read();
        const packet = parseStartupPacket(m.buf, m.bodyStart, m.end);
        if (packet.kind === 'ssl') {
          if (this.tls || !this.host.secureContext) { this.write(Buffer.from('N')); continue; }
          if (this.framer.buffered > 0) {
            // Bytes after SSLRequest would be read as if they came over TLS (CVE-2021-23214).
            throw new GatewayError('QG_PROTOCOL_VIOLATION', 'unencrypted data after SSL request');
          }
          this.write(Buffer.from('S'));
          this.upgrade();
          continue;
        }
        if (packet.kind === 'gssenc') { this.write(Buffer.from('N')); continue; }
        if (packet.kind === 'cancel') {
          this.host.cancel(packet.processId, packet.secretKey);
          this.finish();
          this.socket.end();
          return;
        }
        if (packet.version >>> 16 !== 3) {
          throw new GatewayError('QG_FEATURE_NOT_SUPPORTED', `unsupported frontend protocol ${packet.version >>> 16}.${packet.version & 0xffff}: querygate supports protocol 3.0`);
        }
        const extensions = Object.keys(packet.parameters).filter((k) => k.startsWith('_pq_.'));
        if ((packet.version & 0xffff) !== 0 || extensions.length > 0) this.write(negotiateProtocolVersion(0, extensions));
        parameters = packet.parameters;
      }
      this.framer.untagged = false;
      if (config.tls?.require && !this.tls) {
        throw new GatewayError('QG_TLS_REQUIRED', `listener "${config.name}" requires TLS`, { hint: 'Connect with sslmode=require.' });
      }
      if (runtime.draining) throw new GatewayError('QG_SHUTTING_DOWN');
      const user = parameters.user;
      if (!user) throw new GatewayError('QG_PROTOCOL_VIOLATION', 'no user name specified in the startup packet');
      if (parameters.replication !== undefined && !/^(false|off|no|0)$/i.test(parameters.replication)) {
        throw new GatewayError('QG_FEATURE_NOT_SUPPORTED', 'replication connections are not supported by querygate');
      }

      // ---- authentication
      this.phase = 'auth';
      const identity = await this.authenticate(user);
      this.write(authenticationOk());

      // ---- session and upstream
      this.phase = 'connecting';
      const database = config.upstream.database ?? parameters.database ?? user;
      gs = await runtime.openSession({
        id: this.sessionId, identity, database, clientAddress: this.clientAddress, clientParameters: parameters, tls: this.tls,
      });
      const link = await connectUpstream(config.upstream, { listener: config.name, database, parameters: forwardable(parameters), logger: runtime.logger });
      if (this.ended) {
        link.socket.destroy();
        throw new ClientGone();
      }
      this.startProxy(gs, link, database);
    } catch (err) {
      if (gs) void gs.end(err instanceof ClientGone ? 'client_closed' : 'refused');
      if (err instanceof ClientGone || this.ended) { this.finish(); return; }
      if (err instanceof UpstreamStartupError) {
        this.write(err.raw);
        this.finish();
        this.socket.end();
        return;
      }
      const error = GatewayError.from(err);
      if (error.code === 'QG_INTERNAL') runtime.logger.error('connection startup failed', { sessionId: this.sessionId, error: String(err) });
      this.refuse(error);
    }
  }

  private upgrade(): void {
    const raw = this.socket;
    raw.removeListener('data', this.onData);
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.host.secureContext });
    this.socket = secure;
    this.tls = true;
    this.watch(secure);
  }

  private async authenticate(user: string): Promise<Identity> {
    const { runtime } = this.host;
    const config = runtime.config;
    const local = runtime.identities.localUser(user);
    const fail = (reason: string): never => {
      runtime.authFailed({ sessionId: this.sessionId, clientAddress: this.clientAddress, claimedUser: user, reason });
      throw new GatewayError('QG_AUTH_FAILED');
    };
    if (local || !(this.tls || config.allowPlaintextPasswords)) {
      // Unknown users get the same SCRAM exchange against a fake verifier, so they cannot be told apart.
      const ok = await this.scram(local?.scram ?? runtime.identities.fakeScram(user));
      if (!ok || !local) return fail(local ? 'wrong password' : 'unknown user');
      return local.identity;
    }
    this.write(authenticationCleartextPassword());
    const m = await this.read();
    if (m.type !== Frontend.Password) throw new GatewayError('QG_PROTOCOL_VIOLATION', 'expected a password message');
    const password = parsePassword(m.buf, m.bodyStart, m.end);
    let identity: Identity | undefined;
    try {
      identity = await runtime.identities.verifyPassword(user, password, { listener: config.name, tls: this.tls, clientAddress: this.clientAddress });
    } catch (err) {
      if (err instanceof IdentityRejected) return fail(err.reason);
      throw err;
    }
    return identity ?? fail('no identity provider accepted the password');
  }

  private async scram(verifier: ScramVerifier): Promise<boolean> {
    this.write(authenticationSasl(['SCRAM-SHA-256']));
    const first = await this.read();
    if (first.type !== Frontend.Password) throw new GatewayError('QG_PROTOCOL_VIOLATION', 'expected a SASLInitialResponse message');
    const initial = parseSaslInitialResponse(first.buf, first.bodyStart, first.end);
    if (initial.mechanism !== 'SCRAM-SHA-256') throw new GatewayError('QG_PROTOCOL_VIOLATION', 'the client selected an invalid SASL authentication mechanism');
    const exchange = new ScramServerExchange(verifier);
    const serverFirst = exchange.first(initial.data.toString('utf8'));
    if (serverFirst === undefined) throw new GatewayError('QG_PROTOCOL_VIOLATION', 'malformed SCRAM message');
    this.write(authenticationSaslContinue(serverFirst));
    const final = await this.read();
    if (final.type !== Frontend.Password) throw new GatewayError('QG_PROTOCOL_VIOLATION', 'expected a SASLResponse message');
    const serverFinal = exchange.final(parseSaslResponse(final.buf, final.bodyStart, final.end).toString('utf8'));
    if (serverFinal === undefined) return false;
    this.write(authenticationSaslFinal(serverFinal));
    return true;
  }

  private startProxy(gs: GatewaySession, link: UpstreamLink, database: string): void {
    const key = this.host.register(this);
    for (const status of link.parameterStatus) this.write(status);
    this.write(backendKeyData(key.processId, key.secretKey));
    this.write(readyForQuery(0x49));
    clearTimeout(this.timer);
    this.phase = 'ready';
    this.socket.removeListener('data', this.onData);
    this.socket.pause();
    link.socket.on('error', () => undefined);
    link.socket.setNoDelay(true);
    this.proxy = new ProxySession({
      client: this.socket,
      upstream: link.socket,
      clientRest: this.framer.takeRest(),
      upstreamRest: link.rest,
      session: gs,
      analyzer: this.host.analyzer,
      catalog: this.host.catalog,
      relations: this.host.relations,
      database,
      upstreamConfig: this.host.runtime.config.upstream,
      upstreamKey: { processId: link.processId, secretKey: link.secretKey },
      logger: gs.logger,
      onClosed: () => this.finish(),
    });
    this.proxy.start();
  }

  /** Sends `error` as FATAL and closes. */
  private refuse(error: GatewayError): void {
    if (this.ended) return;
    this.write(errorMessage(error, 'FATAL'));
    this.socket.end();
    const socket = this.socket;
    setTimeout(() => socket.destroy(), 1000).unref();
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.phase = 'closed';
    clearTimeout(this.timer);
    this.host.closed(this);
  }
}

/** The client went away during startup; nothing to tell it. */
class ClientGone extends Error {}

function forwardable(parameters: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters)) {
    if (NOT_FORWARDED.has(name) || name.startsWith('_pq_.')) continue;
    if (name === 'options' && UNSAFE_OPTION.test(value)) continue;
    out[name] = value;
  }
  return out;
}

