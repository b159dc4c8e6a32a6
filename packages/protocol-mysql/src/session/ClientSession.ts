import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import {
  GatewayError, IdentityRejected, statementSummary,
  type Decided, type GatewaySession, type Identity, type Statement, type StatementRun,
} from '@querygate/core';
import {
  cleartextOf, newScramble, rsaDecryptPassword, verifyCachingSha2, verifyNativePassword,
} from '../auth/scramble';
import type { AnalyzeOptions } from '../analysis/MysqlAnalyzer';
import { Capability, Command, Header, ServerStatus } from '../codec/constants';
import type { HandshakeResponse41, HandshakeV10, Packet, ParamType } from '../codec/messages';
import { PacketFramer } from '../codec/PacketFramer';
import {
  isSslRequest, parseChangeUser, parseErr, parseHandshakeResponse41, parseStmtExecute, statementIdOf, statusOf,
} from '../codec/parser';
import { MalformedPacket } from '../codec/PayloadReader';
import { authMoreData, authSwitchRequest, errPacket, frame, handshakeV10, okPacket } from '../codec/serializer';
import { PacketInbox } from './PacketInbox';
import { ResponseRelay, type RelayHost, type ResponseRequest, type ResultPlan } from './ResponseRelay';
import type { SessionServices } from './SessionServices';
import { UpstreamConnection } from './UpstreamConnection';

/** Capabilities offered to clients; the mirrored ones only where the upstream has them too. */
const OFFERED =
  Capability.LONG_PASSWORD | Capability.FOUND_ROWS | Capability.LONG_FLAG | Capability.CONNECT_WITH_DB |
  Capability.NO_SCHEMA | Capability.ODBC | Capability.IGNORE_SPACE | Capability.PROTOCOL_41 |
  Capability.INTERACTIVE | Capability.IGNORE_SIGPIPE | Capability.TRANSACTIONS | Capability.RESERVED |
  Capability.SECURE_CONNECTION | Capability.MULTI_STATEMENTS | Capability.MULTI_RESULTS |
  Capability.PS_MULTI_RESULTS | Capability.PLUGIN_AUTH | Capability.CONNECT_ATTRS |
  Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA | Capability.SESSION_TRACK | Capability.DEPRECATE_EOF;
/** Flags whose meaning the upstream must share, so they are offered only when it has them. */
const UPSTREAM_DEPENDENT =
  Capability.LONG_PASSWORD | Capability.FOUND_ROWS | Capability.LONG_FLAG | Capability.NO_SCHEMA | Capability.ODBC |
  Capability.IGNORE_SPACE | Capability.INTERACTIVE | Capability.IGNORE_SIGPIPE | Capability.TRANSACTIONS |
  Capability.MULTI_STATEMENTS | Capability.MULTI_RESULTS | Capability.PS_MULTI_RESULTS | Capability.CONNECT_ATTRS |
  Capability.SESSION_TRACK | Capability.DEPRECATE_EOF;

/** Buffered client bytes past which the socket is paused while a command is in flight. */
const CLIENT_HIGH_WATER = 256 * 1024;
const SIMPLE: StatementRun = Object.freeze({ via: 'simple' });
const BACKSLASH_ESCAPES: AnalyzeOptions = Object.freeze({ noBackslashEscapes: false });
const NO_BACKSLASH_ESCAPES: AnalyzeOptions = Object.freeze({ noBackslashEscapes: true });
const PREPARE: StatementRun = Object.freeze({ via: 'prepare' });
const LAST_PREPARED = 0xffffffff;

interface PreparedStatement {
  readonly statements: readonly Statement[];
  readonly params: number;
  types: readonly ParamType[] | undefined;
  readonly longData: Set<number>;
  cursor: ResultPlan | undefined;
}

interface PacketSource { next(): Promise<Packet> }

/** Authentication failed; the reason goes to the audit trail, never to the client. */
class AuthFailed extends Error {}

const KILL_FORM = /^kill\s+(?:(?:hard|soft)\s+)?(?:(connection|query)\s+)?(\d+)\s*;?\s*$/i;

/** What the statements of one message (nested ones included) hold that querygate itself handles. */
const enum Special {
  None = 0,
  /** LOAD DATA / LOAD XML LOCAL: the server would ask querygate for a file of its own. */
  LocalInfile = 1,
  /** A top-level KILL: querygate resolves its connection id. */
  Kill = 2,
  /** A KILL inside PREPARE / a stored program: it would reach the upstream with an upstream thread id. */
  NestedKill = 4,
}

function specialOf(statements: readonly Statement[], nested: boolean): number {
  let found = Special.None;
  for (const s of statements) {
    if (s.command === 'load_data_local' || s.command === 'load_xml_local') found |= Special.LocalInfile;
    else if (s.command === 'kill') found |= nested ? Special.NestedKill : Special.Kill;
    if (s.nested !== undefined && s.nested.length > 0) found |= specialOf(s.nested, true);
  }
  return found;
}

function nestedKillError(): GatewayError {
  return new GatewayError('QG_FEATURE_NOT_SUPPORTED', 'KILL inside PREPARE or a stored program is not supported through querygate; send it as a query');
}

/** Comments out of the way for the KILL form; executable comments keep their content. */
function stripComments(sql: string): string {
  return sql
    .replace(/\/\*![0-9]*|\/\*M![0-9]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/(?:--\s|#)[^\n]*/g, ' ')
    .replace(/\*\//g, ' ')
    .trim();
}

/**
 * One client connection: handshake (with TLS when the listener has it), authentication against
 * querygate's identities, the upstream login with mirrored capabilities, then the command phase.
 * Commands run one at a time: a client's pipelined packets wait in the framer (the socket pauses
 * past a high-water mark) until the current command's response has been relayed.
 */
export class ClientSession implements RelayHost {
  readonly connectionId: number;
  readonly sessionId: string;
  private socket: Socket;
  private readonly scramble = newScramble();
  private readonly framer: PacketFramer;
  private readonly relay = new ResponseRelay(this);
  private readonly prepared = new Map<number, PreparedStatement>();
  private lastPrepared: number | undefined;
  private upstream: UpstreamConnection | undefined;
  private gs: GatewaySession | undefined;
  private identity: Identity | undefined;
  private capabilities = 0;
  private tls = false;
  private busy = false;
  private closed = false;
  private draining = false;
  private waiter: { resolve: (p: Packet) => void; reject: (e: Error) => void } | undefined;
  private upstreamPaused = { plan: false, backpressure: false };
  /** Statements in flight that may change relations: the catalog hears when their response ends. */
  private relationChanges: readonly Statement[] | undefined;
  deprecateEof = false;

  constructor(private readonly services: SessionServices, socket: Socket, connectionId: number) {
    this.socket = socket;
    this.connectionId = connectionId;
    this.sessionId = services.runtime.newSessionId();
    this.framer = new PacketFramer(services.maxPacketSize);
    socket.setNoDelay(true);
    socket.on('error', (err) => this.log('debug', 'client socket error', { error: err.message }));
    socket.on('close', () => this.onClientClosed());
  }

  get gatewaySession(): GatewaySession { return this.gs!; }
  get subject(): string | undefined { return this.identity?.subject; }
  get upstreamThreadId(): number | undefined { return this.upstream?.threadId; }
  get idle(): boolean { return !this.busy && this.gs !== undefined; }
  private get clientAddress(): string { return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? 0}`; }

  private log(level: 'debug' | 'info' | 'warn' | 'error', message: string, fields: Record<string, unknown> = {}): void {
    this.services.runtime.logger[level](message, { sessionId: this.sessionId, connectionId: this.connectionId, ...fields });
  }

  // ---------------------------------------------------------------- connection phase

  async start(): Promise<void> {
    const { runtime } = this.services;
    if (runtime.draining) return this.fatal(new GatewayError('QG_SHUTTING_DOWN'), 0);
    let server: HandshakeV10;
    try {
      server = await this.services.serverInfo();
    } catch (err) {
      return this.fatal(GatewayError.from(err, 'QG_UPSTREAM_UNAVAILABLE'), 0);
    }
    if (this.closed) return;
    const offered = (OFFERED & ~UPSTREAM_DEPENDENT) | (OFFERED & UPSTREAM_DEPENDENT & server.capabilities) |
      (this.services.secureContext ? Capability.SSL : 0);
    this.write(frame(handshakeV10({
      protocolVersion: 10,
      serverVersion: runtime.config.serverVersion ?? server.serverVersion,
      connectionId: this.connectionId,
      scramble: this.scramble,
      capabilities: offered,
      charset: server.charset,
      status: server.status,
      authPluginName: this.services.authPlugin,
    }), 0));

    const inbox = new PacketInbox(this.socket, 1 << 20);
    const timer = setTimeout(() => {
      this.log('info', 'client did not finish authentication in time');
      this.socket.destroy();
    }, this.services.authTimeoutMs);
    let response: HandshakeResponse41;
    let seq: number;
    try {
      let p = await inbox.next();
      if (p.seq !== 1) throw new MalformedPacket(`handshake response with sequence id ${p.seq}`);
      if (isSslRequest(p.payload)) {
        if (!this.services.secureContext) throw new MalformedPacket('TLS requested but not offered');
        // mysql2 writes its ClientHello right behind the SSLRequest, often in the same segment:
        // those bytes are the TLS socket's. Put back into the paused socket, TLSSocket reads
        // them first, as if they had arrived after the upgrade.
        const hello = inbox.detach();
        this.socket.pause();
        if (hello.length > 0) this.socket.unshift(hello);
        const secure = new TLSSocket(this.socket, { isServer: true, secureContext: this.services.secureContext });
        secure.on('error', (err) => this.log('debug', 'client TLS error', { error: err.message }));
        this.socket = secure;
        this.tls = true;
        inbox.rebind(secure);
        p = await inbox.next();
        if (p.seq !== 2) throw new MalformedPacket(`handshake response with sequence id ${p.seq}`);
      }
      response = parseHandshakeResponse41(p.payload);
      seq = p.seq + 1;
      this.capabilities = response.capabilities & offered;
      this.deprecateEof = (this.capabilities & Capability.DEPRECATE_EOF) !== 0;
      if (runtime.config.tls?.require && !this.tls) {
        clearTimeout(timer);
        inbox.detach();
        return this.fatal(new GatewayError('QG_TLS_REQUIRED'), seq);
      }
      const authed = await this.authenticate(inbox, response.user, response.authPluginName, response.authResponse, seq);
      this.identity = authed.identity;
      seq = authed.seq;
    } catch (err) {
      clearTimeout(timer);
      inbox.detach();
      return this.handshakeFailed(err, 'unknown');
    }
    clearTimeout(timer);

    const database = response.database ?? runtime.config.upstream.database ?? '';
    try {
      this.gs = await runtime.openSession({
        id: this.sessionId,
        identity: this.identity,
        database,
        clientAddress: this.clientAddress,
        clientParameters: { ...response.attributes, user: response.user, ...(response.database ? { database: response.database } : {}) },
        tls: this.tls,
      });
    } catch (err) {
      inbox.detach();
      return this.fatal(GatewayError.from(err), seq);
    }
    if (this.closed) { inbox.detach(); void this.gs.end('client_closed'); return; }

    try {
      this.upstream = await UpstreamConnection.open(runtime.config.upstream, runtime.config.name, {
        capabilities: this.capabilities,
        charset: response.charset,
        maxPacketSize: response.maxPacketSize,
        database: database || undefined,
        attributes: response.capabilities & Capability.CONNECT_ATTRS ? response.attributes : {},
      });
    } catch (err) {
      inbox.detach();
      const error = GatewayError.from(err, 'QG_UPSTREAM_UNAVAILABLE');
      this.log('warn', 'upstream login failed', { code: error.code, cause: String(error.cause ?? '') });
      void this.gs.end('error');
      return this.fatal(error, seq);
    }
    if (this.closed) { inbox.detach(); this.closeUpstream(); return; }
    if (((this.upstream.capabilities & Capability.DEPRECATE_EOF) !== 0) !== this.deprecateEof) {
      inbox.detach();
      this.closeUpstream();
      void this.gs.end('error');
      return this.fatal(new GatewayError('QG_UPSTREAM_REJECTED', `listener "${runtime.config.name}": the upstream changed its capabilities`), seq);
    }
    this.relay.serverStatus = statusOf(this.upstream.okPayload);
    this.attachUpstream(this.upstream);
    // The upstream's own OK carries its status flags and session state; the client gets that.
    this.write(frame(this.upstream.okPayload, seq));
    const early = inbox.detach();
    this.socket.on('data', (chunk: Buffer) => this.onClientData(chunk));
    this.socket.on('drain', () => this.onClientDrain());
    if (this.upstream.leftover.length > 0) this.relay.onData(this.upstream.leftover);
    if (early.length > 0) this.onClientData(early);
  }

  private handshakeFailed(err: unknown, user: string): void {
    if (this.closed) return;
    if (err instanceof AuthFailed) {
      this.fatal(new GatewayError('QG_AUTH_FAILED'), Number(err.message));
      return;
    }
    if (err instanceof MalformedPacket) {
      this.services.runtime.authFailed({ sessionId: this.sessionId, clientAddress: this.clientAddress, claimedUser: user, reason: `protocol violation: ${err.message}` });
      this.fatal(new GatewayError('QG_PROTOCOL_VIOLATION', `protocol violation: ${err.message}`), 0);
      return;
    }
    this.log('debug', 'handshake ended', { error: String(err) });
    this.socket.destroy();
  }

  /**
   * Proves who the client is. Local users: the scramble proof of the plugin they answered with
   * (mysql_native_password or caching_sha2_password's fast path), with an AuthSwitchRequest to the
   * listener's plugin for any other. A cleartext secret (an OIDC token, or a caching_sha2 full
   * authentication) is resolved through the identity directory: over TLS it comes as is, over
   * plaintext through caching_sha2's RSA exchange, or by mysql_clear_password when the listener
   * allows plaintext passwords. Resolves with the identity and the next server sequence id.
   */
  private async authenticate(
    source: PacketSource, user: string, plugin: string | undefined, response: Buffer, firstSeq: number,
  ): Promise<{ identity: Identity; seq: number }> {
    const { runtime } = this.services;
    let seq = firstSeq;
    const send = (payload: Buffer): void => { this.write(frame(payload, seq)); };
    const receive = async (): Promise<Buffer> => {
      const p = await source.next();
      if (p.seq !== ((seq + 1) & 0xff)) throw new MalformedPacket(`auth packet with sequence id ${p.seq}`);
      seq = (p.seq + 1) & 0xff;
      return p.payload;
    };
    const fail = (reason: string): never => {
      runtime.authFailed({ sessionId: this.sessionId, clientAddress: this.clientAddress, claimedUser: user, reason });
      throw new AuthFailed(String(seq));
    };
    const resolveSecret = async (secret: string): Promise<Identity> => {
      try {
        const identity = await runtime.identities.verifyPassword(user, secret, { listener: runtime.config.name, tls: this.tls, clientAddress: this.clientAddress });
        return identity ?? fail('no local user or verifier accepted the credentials');
      } catch (err) {
        if (err instanceof IdentityRejected) return fail(err.reason);
        throw err;
      }
    };
    const fullAuth = async (): Promise<Identity> => {
      send(authMoreData(Buffer.from([4])));
      let data = await receive();
      if (this.tls) return resolveSecret(cleartextOf(data));
      if (data.length === 1 && data[0] === 2) {
        send(authMoreData(Buffer.from(this.services.publicKeyPem, 'utf8')));
        data = await receive();
        const secret = rsaDecryptPassword(data, this.scramble, this.services.privateKeyPem);
        return secret === undefined ? fail('RSA-encrypted password could not be decrypted') : resolveSecret(secret);
      }
      if (runtime.config.allowPlaintextPasswords) return resolveSecret(cleartextOf(data));
      return fail('cleartext password over a connection without TLS');
    };
    const local = runtime.identities.localUser(user);
    const cleartextAllowed = this.tls || runtime.config.allowPlaintextPasswords;
    let current = plugin ?? 'mysql_native_password';
    let switched = false;
    for (;;) {
      // libmariadb answers with an empty proof when its plugin is not the one announced, and
      // expects a switch to its own plugin with the scramble.
      const emptyProof = response.length === 0 && !switched;
      if (current === 'mysql_native_password' && local && !emptyProof) {
        return verifyNativePassword(response, this.scramble, local.mysqlNative)
          ? { identity: local.identity, seq } : fail('wrong password');
      }
      // A user querygate does not know presents a secret it must see (an OIDC token). Without TLS,
      // caching_sha2's full authentication would make a client RSA-encrypt it, and a JWT does not
      // fit the key: where the listener allows plaintext passwords, ask for it in clear instead.
      // Over TLS the full authentication already carries it in clear, and needs no client opt-in.
      const clearForUnknown = !local && !this.tls && runtime.config.allowPlaintextPasswords === true;
      if (current === 'caching_sha2_password' && !emptyProof && !(clearForUnknown && !switched)) {
        if (local && verifyCachingSha2(response, this.scramble, local.sha256Twice)) {
          send(authMoreData(Buffer.from([3])));
          seq = (seq + 1) & 0xff;
          return { identity: local.identity, seq };
        }
        const identity = await fullAuth();
        return { identity, seq };
      }
      if (current === 'mysql_clear_password' && switched) {
        return { identity: await resolveSecret(cleartextOf(response)), seq };
      }
      if (switched) return fail(`client answered an auth switch with ${current}`);
      // Another plugin, or a user querygate must resolve from a cleartext secret: switch.
      const target = local
        ? (emptyProof && (current === 'mysql_native_password' || current === 'caching_sha2_password') ? current : this.services.authPlugin)
        : cleartextAllowed ? 'mysql_clear_password' : 'caching_sha2_password';
      if (!(this.capabilities & Capability.PLUGIN_AUTH)) return fail('client cannot switch authentication plugins');
      send(authSwitchRequest(target, this.scramble));
      response = await receive();
      current = target;
      switched = true;
    }
  }

  private attachUpstream(upstream: UpstreamConnection): void {
    const socket = upstream.socket;
    socket.on('data', (chunk: Buffer) => {
      try {
        this.relay.onData(chunk);
      } catch (err) {
        this.log('error', 'bad packet from the upstream', { error: String(err) });
        this.fatal(new GatewayError('QG_UPSTREAM_LOST', 'the upstream sent a malformed packet'), this.busy ? 1 : 0);
      }
    });
    socket.on('error', (err) => this.log('debug', 'upstream socket error', { error: err.message }));
    socket.on('close', () => {
      if (this.closed || this.upstream !== upstream) return;
      this.upstream = undefined;
      void this.gs?.end('upstream_closed');
      this.fatal(new GatewayError('QG_UPSTREAM_LOST'), this.busy ? 1 : 0);
    });
    socket.on('drain', () => {
      if (this.socket.isPaused() && !this.busy) this.socket.resume();
    });
  }

  // ---------------------------------------------------------------- command phase

  private onClientData(chunk: Buffer): void {
    this.framer.push(chunk);
    this.pump();
  }

  private pump(): void {
    while (!this.closed) {
      if (this.busy && !this.waiter) {
        if (this.framer.buffered > CLIENT_HIGH_WATER && !this.socket.isPaused()) this.socket.pause();
        return;
      }
      let packet: Packet | undefined;
      try {
        packet = this.framer.next();
      } catch (err) {
        this.protocolError(err);
        return;
      }
      if (!packet) {
        if (this.socket.isPaused()) this.socket.resume();
        return;
      }
      const waiter = this.waiter;
      if (waiter) {
        this.waiter = undefined;
        waiter.resolve(packet);
        continue;
      }
      try {
        this.command(packet);
      } catch (err) {
        this.protocolError(err);
        return;
      }
    }
  }

  /** The command in flight is over: take the next one. */
  private done(): void {
    this.busy = false;
    if (this.draining) { this.shutdown(); return; }
    this.pump();
  }

  private protocolError(err: unknown): void {
    if (!(err instanceof MalformedPacket)) {
      this.log('error', 'command failed', { error: err instanceof Error ? err.stack : String(err) });
      this.fatal(new GatewayError('QG_INTERNAL'), 1);
      return;
    }
    this.log('info', 'protocol violation', { error: err.message });
    this.fatal(new GatewayError('QG_PROTOCOL_VIOLATION', `protocol violation: ${err.message}`), 1);
  }

  private command(p: Packet): void {
    if (p.seq !== 0) throw new MalformedPacket(`command with sequence id ${p.seq}`);
    if (p.payload.length === 0) throw new MalformedPacket('empty command');
    const cmd = p.payload[0]!;
    switch (cmd) {
      case Command.QUERY: return this.query(p);
      case Command.STMT_PREPARE: return this.prepare(p);
      case Command.STMT_EXECUTE: return this.execute(p);
      case Command.STMT_FETCH: {
        const ps = this.prepared.get(statementIdOf(p.payload));
        return this.forward(p, { kind: 'fetch', statements: [], run: { via: 'execute' }, report: false, cursorPlan: ps?.cursor });
      }
      case Command.STMT_SEND_LONG_DATA: {
        if (p.payload.length < 7) throw new MalformedPacket('truncated COM_STMT_SEND_LONG_DATA');
        this.prepared.get(statementIdOf(p.payload))?.longData.add(p.payload.readUInt16LE(5));
        this.writeUpstream(p.raw);
        return;
      }
      case Command.STMT_CLOSE: {
        this.prepared.delete(statementIdOf(p.payload));
        this.writeUpstream(p.raw);
        return;
      }
      case Command.STMT_RESET: {
        this.prepared.get(statementIdOf(p.payload))?.longData.clear();
        return this.forwardSingle(p);
      }
      case Command.RESET_CONNECTION:
        this.prepared.clear();
        this.lastPrepared = undefined;
        return this.forwardSingle(p);
      case Command.PING:
      case Command.SET_OPTION:
      case Command.STATISTICS:
        return this.forwardSingle(p);
      case Command.FIELD_LIST:
        return this.forward(p, { kind: 'fieldList', statements: [], run: SIMPLE, report: false });
      case Command.INIT_DB: return this.initDb(p);
      case Command.QUIT: {
        void this.gs?.end('client_closed');
        this.close();
        return;
      }
      case Command.CHANGE_USER: {
        this.busy = true;
        void this.changeUser(p);
        return;
      }
      case Command.PROCESS_KILL: {
        if (p.payload.length < 5) throw new MalformedPacket('truncated COM_PROCESS_KILL');
        this.busy = true;
        void this.kill(p.payload.readUInt32LE(1), 'connection');
        return;
      }
      default:
        this.sendError(new GatewayError('QG_FEATURE_NOT_SUPPORTED', `command 0x${cmd.toString(16)} is not supported through querygate`), 1);
    }
  }

  private forward(p: Packet, req: ResponseRequest): void {
    this.busy = true;
    this.relay.begin(req);
    this.writeUpstream(p.raw);
  }

  private forwardSingle(p: Packet): void {
    this.forward(p, { kind: 'single', statements: [], run: SIMPLE, report: false });
  }

  /** Judges, then runs `allowed` or answers with the refusal. Stays synchronous when the verdict is. */
  private judged(statements: readonly Statement[], run: StatementRun, allowed: () => void): void {
    const verdict = this.gs!.judge(statements, run);
    if (!(verdict instanceof Promise)) {
      this.apply(verdict, allowed);
      return;
    }
    this.busy = true;
    verdict.then(
      (decided) => {
        if (this.closed) return;
        this.busy = false;
        this.apply(decided, allowed);
        if (!this.busy) this.done();
      },
      (err: unknown) => {
        if (this.closed) return;
        this.busy = false;
        this.sendError(GatewayError.from(err, 'QG_HOOK_FAILED'), 1);
        this.done();
      },
    );
  }

  /**
   * `judged`, once the relation catalog the hooks read knows what the statements name (a first
   * statement, a snapshot stale after DDL, a relation it lacks): if it cannot be read, the message
   * is refused. Stays synchronous when the catalog is ready.
   */
  private judgedWhenReady(statements: readonly Statement[], run: StatementRun, allowed: () => void): void {
    const ready = this.services.relations?.ready(this.gs!.session, statements);
    if (ready === undefined) return this.judged(statements, run, allowed);
    this.whenReady(ready, statements, run, () => this.judged(statements, run, allowed));
  }

  /** Runs `then` once the catalog is ready, or refuses the statements when it cannot be read. */
  private whenReady(ready: Promise<void>, statements: readonly Statement[], run: StatementRun, then: () => void): void {
    this.busy = true;
    ready.then(
      () => {
        if (this.closed) return;
        this.busy = false;
        then();
        if (!this.busy) this.done();
      },
      (err: unknown) => {
        if (this.closed) return;
        this.busy = false;
        this.log('warn', 'relation catalog unavailable; refusing the statement', { error: String(err) });
        const error = GatewayError.from(err, 'QG_UPSTREAM_UNAVAILABLE');
        this.gs!.refuse(statements, run, error);
        this.sendError(error, 1);
        this.done();
      },
    );
  }

  /** Forwards statements that were allowed, noting those that may change relations. */
  private forwardStatements(p: Packet, req: ResponseRequest): void {
    if (this.services.relations?.changesRelations(req.statements)) this.relationChanges = req.statements;
    this.forward(p, req);
  }

  private apply(decided: Decided, allowed: () => void): void {
    if (decided.action === 'allow') allowed();
    else this.sendError(decided.error, 1);
  }

  /** Refuses without judging (the statement can never run here), auditing it as denied. */
  private refuse(statements: readonly Statement[], error: GatewayError): void {
    for (const statement of statements) {
      this.gs!.audit({
        event: 'statement.denied', statement: statementSummary(statement), fingerprint: statement.fingerprint,
        verdict: 'deny', rule: error.rule, error: { code: error.code, message: error.message },
      });
    }
    this.sendError(error, 1);
  }

  /** Splits and analyses the way the upstream will read the text, given its current sql_mode. */
  private analyze(sql: string): readonly Statement[] {
    return this.services.analyzer.analyze(sql, (this.relay.serverStatus & ServerStatus.NO_BACKSLASH_ESCAPES) !== 0 ? NO_BACKSLASH_ESCAPES : BACKSLASH_ESCAPES);
  }

  private query(p: Packet): void {
    const statements = this.analyze(p.payload.toString('utf8', 1));
    const special = specialOf(statements, false);
    if (special !== Special.None) {
      if (special & Special.LocalInfile) return this.refuse(statements, new GatewayError('QG_LOCAL_INFILE_REFUSED', undefined, { rule: 'local-infile' }));
      if (special & Special.NestedKill) return this.refuse(statements, nestedKillError());
      return this.killStatement(statements);
    }
    this.judgedWhenReady(statements, SIMPLE, () => this.forwardStatements(p, { kind: 'query', statements, run: SIMPLE, report: true }));
  }

  private prepare(p: Packet): void {
    const statements = this.analyze(p.payload.toString('utf8', 1));
    const special = specialOf(statements, true);
    if (special & Special.LocalInfile) return this.refuse(statements, new GatewayError('QG_LOCAL_INFILE_REFUSED', undefined, { rule: 'local-infile' }));
    if (special & Special.NestedKill) {
      return this.refuse(statements, new GatewayError('QG_FEATURE_NOT_SUPPORTED', 'KILL cannot be prepared through querygate; send it as a query'));
    }
    this.judgedWhenReady(statements, PREPARE, () => this.forward(p, {
      kind: 'prepare', statements: [], run: PREPARE, report: false,
      onPrepareOk: (ok) => {
        // One upstream connection per session: the upstream's ids are the client's; the map keeps
        // what querygate knows about each.
        this.prepared.set(ok.statementId, { statements, params: ok.params, types: undefined, longData: new Set(), cursor: undefined });
        this.lastPrepared = ok.statementId;
      },
    }));
  }

  private execute(p: Packet): void {
    let id = statementIdOf(p.payload);
    if (id === LAST_PREPARED && this.lastPrepared !== undefined) id = this.lastPrepared;
    const ps = this.prepared.get(id);
    let run: StatementRun = { via: 'execute' };
    if (ps && ps.params > 0) {
      try {
        const exec = parseStmtExecute(p.payload, ps.params, ps.types, ps.longData);
        ps.types = exec.types;
        run = { via: 'execute', parameters: exec.values };
      } catch (err) {
        if (!(err instanceof MalformedPacket)) throw err;
        // The server judges the packet's validity; the parameters are only for hooks.
      }
      ps.longData.clear();
    }
    const go = (): void => this.forwardStatements(p, {
      kind: 'execute', statements: ps?.statements ?? [], run, report: ps !== undefined,
      onCursor: (plan) => { if (ps) ps.cursor = plan; },
    });
    // Judged when prepared; its result is planned now, on a snapshot that must be current.
    const ready = ps ? this.services.relations?.ready(this.gs!.session, ps.statements) : undefined;
    if (ready === undefined) return go();
    this.whenReady(ready, ps!.statements, run, go);
  }

  /** COM_INIT_DB is judged as the `USE` statement it is equivalent to. */
  private initDb(p: Packet): void {
    const db = p.payload.toString('utf8', 1);
    const statements = this.analyze(`USE \`${db.replace(/`/g, '``')}\``);
    this.judged(statements, SIMPLE, () => this.forward(p, { kind: 'single', statements, run: SIMPLE, report: true }));
  }

  // ---------------------------------------------------------------- KILL

  private killStatement(statements: readonly Statement[]): void {
    const form = statements.length === 1 ? KILL_FORM.exec(stripComments(statements[0]!.text)) : null;
    if (!form) {
      return this.refuse(statements, new GatewayError('QG_FEATURE_NOT_SUPPORTED', 'only `KILL [CONNECTION | QUERY] <connection id>`, sent alone, is supported through querygate'));
    }
    const scope = form[1]?.toLowerCase() === 'query' ? 'query' : 'connection';
    const target = Number(form[2]);
    this.judged(statements, SIMPLE, () => {
      this.busy = true;
      void this.kill(target, scope);
    });
  }

  /**
   * KILL by querygate connection id: allowed for the caller's own sessions (same identity subject,
   * so a CLI's Ctrl-C from a second connection works); runs `KILL` for the target's upstream
   * thread on a side connection, since upstream thread ids are not what clients see.
   */
  private async kill(target: number, scope: 'query' | 'connection'): Promise<void> {
    const { runtime } = this.services;
    const session = this.services.session(target);
    const threadId = session?.upstreamThreadId;
    try {
      if (!session || threadId === undefined || session.subject !== this.subject) {
        this.sendError(new GatewayError('QG_STATEMENT_DENIED', `KILL: unknown connection id ${target}, or not one of your sessions`, { rule: 'kill' }), 1);
        return;
      }
      const payload = await UpstreamConnection.runOnce(runtime.config.upstream, runtime.config.name, `KILL ${scope === 'query' ? 'QUERY' : 'CONNECTION'} ${threadId}`);
      if (this.closed) return;
      if (payload[0] === Header.ERR) {
        const err = parseErr(payload);
        this.write(frame(errPacket(err), 1));
      } else {
        this.write(frame(okPacket({ status: payload[0] === Header.OK ? statusOf(payload) : 0 }), 1));
      }
    } catch (err) {
      if (!this.closed) this.sendError(GatewayError.from(err, 'QG_UPSTREAM_UNAVAILABLE'), 1);
    } finally {
      if (!this.closed) this.done();
    }
  }

  // ---------------------------------------------------------------- COM_CHANGE_USER

  /**
   * Re-authenticates against querygate's identities (never the server's users), ends the old
   * gateway session and opens a new one, and resets the upstream connection with
   * COM_RESET_CONNECTION: the server keeps seeing querygate's own user.
   */
  private async changeUser(p: Packet): Promise<void> {
    const { runtime } = this.services;
    const source: PacketSource = {
      next: () => new Promise<Packet>((resolve, reject) => {
        this.waiter = { resolve, reject };
        this.pump();
      }),
    };
    let seq = 1;
    try {
      const request = parseChangeUser(p.payload, this.capabilities);
      const authed = await this.authenticate(source, request.user, request.authPluginName, request.authResponse, 1);
      seq = authed.seq;
      const old = this.gs;
      this.gs = undefined;
      await old?.end('client_closed');
      const database = request.database || runtime.config.upstream.database || '';
      this.gs = await runtime.openSession({
        id: runtime.newSessionId(),
        identity: authed.identity,
        database,
        clientAddress: this.clientAddress,
        clientParameters: { ...request.attributes, user: request.user },
        tls: this.tls,
      });
      this.identity = authed.identity;
      this.prepared.clear();
      this.lastPrepared = undefined;
      let answer = await this.internal(Buffer.from([Command.RESET_CONNECTION]));
      if (answer[0] === Header.OK && request.database) {
        answer = await this.internal(Buffer.concat([Buffer.from([Command.INIT_DB]), Buffer.from(request.database, 'utf8')]));
      }
      if (this.closed) return;
      if (answer[0] === Header.ERR) this.write(frame(errPacket(parseErr(answer)), seq));
      else this.write(frame(answer[0] === Header.OK ? answer : okPacket({ status: 2 }), seq));
      this.done();
    } catch (err) {
      if (this.closed) return;
      if (err instanceof AuthFailed) {
        void this.gs?.end('refused');
        this.fatal(new GatewayError('QG_AUTH_FAILED'), Number(err.message));
      } else if (err instanceof MalformedPacket) {
        this.protocolError(err);
      } else {
        void this.gs?.end('refused');
        this.fatal(GatewayError.from(err), seq);
      }
    }
  }

  /** Runs a command on the upstream whose answer the client never sees. */
  private internal(payload: Buffer): Promise<Buffer> {
    return new Promise<Buffer>((resolve) => {
      this.relay.begin({ kind: 'single', statements: [], run: SIMPLE, report: false, capture: resolve });
      this.writeUpstream(frame(payload, 0));
    });
  }

  // ---------------------------------------------------------------- RelayHost

  writeClient(bytes: Buffer): void {
    if (!this.socket.write(bytes) && this.upstream) {
      this.upstreamPaused.backpressure = true;
      this.upstream.socket.pause();
    }
  }

  private onClientDrain(): void {
    if (!this.upstreamPaused.backpressure) return;
    this.upstreamPaused.backpressure = false;
    if (!this.upstreamPaused.plan) this.upstream?.socket.resume();
  }

  writeUpstream(bytes: Buffer): void {
    const upstream = this.upstream;
    if (!upstream) return;
    if (!upstream.socket.write(bytes) && !this.socket.isPaused()) this.socket.pause();
  }

  pauseUpstream(): void {
    this.upstreamPaused.plan = true;
    this.upstream?.socket.pause();
  }

  resumeUpstream(): void {
    this.upstreamPaused.plan = false;
    if (!this.upstreamPaused.backpressure) this.upstream?.socket.resume();
  }

  responseDone(): void {
    const changes = this.relationChanges;
    if (changes !== undefined) {
      this.relationChanges = undefined;
      if (this.gs) this.services.relations?.completed(this.gs.session, changes);
    }
    this.done();
  }

  hookFailed(error: GatewayError): void {
    this.log('warn', 'result hook refused the result', { code: error.code });
  }

  // ---------------------------------------------------------------- errors and shutdown

  private write(bytes: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(bytes);
  }

  private errorText(error: GatewayError): string {
    let text = error.message;
    if (error.detail) text += `: ${error.detail}`;
    if (error.rule && !text.includes(error.rule)) text += ` (rule "${error.rule}")`;
    return text;
  }

  private sendError(error: GatewayError, seq: number): void {
    this.write(frame(errPacket({ errno: error.mysqlErrno, sqlState: error.mysqlSqlState, message: this.errorText(error) }), seq));
  }

  /** Sends the error and ends the session. */
  fatal(error: GatewayError, seq: number): void {
    if (this.closed) return;
    this.sendError(error, seq);
    this.close();
  }

  /** Refused at accept: the listener is at listeners[].maxConnections. */
  fatalTooMany(): void {
    this.fatal(new GatewayError('QG_TOO_MANY_CONNECTIONS'), 0);
  }

  /** Listener drain: idle sessions end now, busy ones after their current response. */
  drain(): void {
    this.draining = true;
    if (!this.busy) this.shutdown();
  }

  private shutdown(): void {
    void this.gs?.end('shutdown');
    this.fatal(new GatewayError('QG_SHUTTING_DOWN'), 0);
  }

  /** Ends the client connection and querygate's upstream connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiter?.reject(new Error('session closed'));
    this.waiter = undefined;
    this.closeUpstream();
    this.socket.end();
    this.socket.destroySoon?.();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.services.closed(this);
  }

  destroy(): void {
    this.close();
    this.socket.destroy();
  }

  private closeUpstream(): void {
    const upstream = this.upstream;
    this.upstream = undefined;
    if (!upstream) return;
    upstream.socket.end(frame(Buffer.from([Command.QUIT]), 0));
    setTimeout(() => upstream.socket.destroy(), 1000).unref();
  }

  private onClientClosed(): void {
    if (!this.closed) {
      void this.gs?.end('client_closed');
      this.close();
    }
  }
}
