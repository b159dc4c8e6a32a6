import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { GatewayError, type UpstreamConfig } from '@querygate/core';
import {
  cachingSha2Token, cleartextOf, nativePasswordToken, rsaEncryptPassword,
} from '../auth/scramble';
import { Capability, Command, Header } from '../codec/constants';
import type { HandshakeV10, Packet } from '../codec/messages';
import { parseAuthSwitchRequest, parseErr, parseHandshakeV10 } from '../codec/parser';
import { MalformedPacket } from '../codec/PayloadReader';
import { frame, handshakeResponse41, sslRequest, textCommand } from '../codec/serializer';
import { PacketInbox } from './PacketInbox';

/** What querygate asks of the upstream: the client's negotiated flags, mirrored. */
export interface UpstreamLogin {
  readonly capabilities: number;
  readonly charset: number;
  readonly maxPacketSize: number;
  readonly database?: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** Capabilities querygate may ever ask the upstream for; the rest are never mirrored. */
const MIRRORABLE =
  Capability.LONG_PASSWORD | Capability.FOUND_ROWS | Capability.LONG_FLAG | Capability.NO_SCHEMA |
  Capability.ODBC | Capability.IGNORE_SPACE | Capability.INTERACTIVE | Capability.IGNORE_SIGPIPE |
  Capability.TRANSACTIONS | Capability.MULTI_STATEMENTS | Capability.MULTI_RESULTS | Capability.PS_MULTI_RESULTS |
  Capability.CONNECT_ATTRS | Capability.SESSION_TRACK | Capability.DEPRECATE_EOF;
const REQUIRED = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH | Capability.RESERVED;

const MAX_HANDSHAKE_PAYLOAD = 1 << 20;

/**
 * querygate's own connection to the database: connects, negotiates TLS per `upstream.tls.mode`,
 * logs in with the configured user (mysql_native_password, caching_sha2_password incl. full auth
 * over TLS or RSA, auth switch). After `open`, the socket belongs to the session, which relays.
 */
export class UpstreamConnection {
  private constructor(
    readonly socket: Socket,
    readonly handshake: HandshakeV10,
    readonly capabilities: number,
    /** The final OK payload of the login (status flags, session state), relayed to the client. */
    readonly okPayload: Buffer,
    /** Bytes that arrived after the OK (none in practice), to feed to the relay. */
    readonly leftover: Buffer,
    readonly tls: boolean,
  ) {}

  get threadId(): number { return this.handshake.connectionId; }

  /** Reads only the server's greeting, for its version, capabilities and charset. */
  static async probe(config: UpstreamConfig, listener: string): Promise<HandshakeV10> {
    const socket = await connectTcp(config, listener);
    const inbox = new PacketInbox(socket, MAX_HANDSHAKE_PAYLOAD);
    try {
      const greeting = await withTimeout(inbox.next(), config.connectTimeout, socket);
      return readGreeting(greeting.payload, listener);
    } catch (err) {
      throw toUnavailable(err, listener);
    } finally {
      inbox.detach();
      socket.on('error', () => undefined);
      socket.destroy();
    }
  }

  static async open(config: UpstreamConfig, listener: string, login: UpstreamLogin): Promise<UpstreamConnection> {
    const raw = await connectTcp(config, listener);
    let socket: Socket = raw;
    const inbox = new PacketInbox(socket, MAX_HANDSHAKE_PAYLOAD);
    const timer = setTimeout(() => raw.destroy(new Error(`login did not finish within ${config.connectTimeout} ms`)), config.connectTimeout);
    try {
      const greeting = await inbox.next();
      const handshake = readGreeting(greeting.payload, listener);
      let caps = (login.capabilities & MIRRORABLE & handshake.capabilities) | REQUIRED;
      if (handshake.capabilities & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA) caps |= Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA;
      const database = login.database;
      if (database) caps |= Capability.CONNECT_WITH_DB;
      let seq = greeting.seq + 1;
      const mode = config.tls.mode;
      let tls = false;
      if (mode !== 'disable' && handshake.capabilities & Capability.SSL) {
        caps |= Capability.SSL;
        raw.write(frame(sslRequest({ capabilities: caps, maxPacketSize: login.maxPacketSize, charset: login.charset }), seq++));
        inbox.detach();
        socket = await upgrade(raw, config);
        inbox.rebind(socket);
        tls = true;
      } else if (mode === 'require' || mode === 'verify-full') {
        throw new GatewayError('QG_UPSTREAM_UNAVAILABLE', `listener "${listener}": the upstream database does not offer TLS, which upstream.tls.mode "${mode}" requires`);
      }
      const password = config.password?.reveal() ?? '';
      let plugin = handshake.authPluginName;
      let scramble = handshake.scramble;
      const token = (name: string): Buffer => {
        if (name === 'caching_sha2_password') return cachingSha2Token(password, scramble);
        if (name === 'mysql_clear_password') {
          if (!tls) throw new GatewayError('QG_UPSTREAM_REJECTED', `listener "${listener}": the upstream asks for a cleartext password over a connection without TLS; refused`);
          return Buffer.from(`${password}\0`, 'utf8');
        }
        return nativePasswordToken(password, scramble);
      };
      if (plugin !== 'caching_sha2_password' && plugin !== 'mysql_native_password') plugin = 'mysql_native_password';
      socket.write(frame(handshakeResponse41({
        capabilities: caps, maxPacketSize: login.maxPacketSize, charset: login.charset, user: config.user,
        authResponse: token(plugin), database, authPluginName: plugin, attributes: login.attributes,
      }), seq));
      for (;;) {
        const p: Packet = await inbox.next();
        const head = p.payload[0];
        const reply = (payload: Buffer): void => { socket.write(frame(payload, p.seq + 1)); };
        if (head === Header.OK) {
          clearTimeout(timer);
          const leftover = inbox.detach();
          return new UpstreamConnection(socket, handshake, caps, p.payload, leftover, tls);
        }
        if (head === Header.ERR) {
          const err = parseErr(p.payload);
          throw new GatewayError('QG_UPSTREAM_REJECTED', `listener "${listener}": the upstream database refused querygate's own login`, {
            detail: `upstream error ${err.errno}`, cause: new Error(err.message),
          });
        }
        if (head === Header.AUTH_SWITCH) {
          const sw = parseAuthSwitchRequest(p.payload);
          plugin = sw.pluginName;
          if (sw.data.length >= 20) scramble = sw.data.subarray(0, 20);
          reply(token(plugin));
          continue;
        }
        if (head === Header.AUTH_MORE_DATA && plugin === 'caching_sha2_password') {
          const data = p.payload.subarray(1);
          if (data.length === 1 && data[0] === 3) continue; // fast auth success; the OK follows
          if (data.length === 1 && data[0] === 4) {
            reply(tls ? Buffer.from(`${password}\0`, 'utf8') : Buffer.from([2]));
            continue;
          }
          // The server's public key, asked for with 0x02.
          reply(rsaEncryptPassword(password, scramble, cleartextOf(data)));
          continue;
        }
        throw new MalformedPacket(`unexpected packet 0x${(head ?? 0).toString(16)} during the upstream login`);
      }
    } catch (err) {
      socket.destroy();
      raw.destroy();
      throw err instanceof GatewayError ? err : toUnavailable(err, listener);
    } finally {
      clearTimeout(timer);
      raw.on('error', () => undefined);
      socket.on('error', () => undefined);
    }
  }

  /**
   * Opens a short-lived side connection, runs one statement and closes: how KILL reaches the
   * upstream without touching the session connections. Resolves to the response payload.
   */
  static async runOnce(config: UpstreamConfig, listener: string, sql: string): Promise<Buffer> {
    const conn = await UpstreamConnection.open(config, listener, {
      capabilities: Capability.LONG_PASSWORD | Capability.TRANSACTIONS, charset: 45, maxPacketSize: 1 << 24, attributes: {},
    });
    const inbox = new PacketInbox(conn.socket, MAX_HANDSHAKE_PAYLOAD);
    try {
      conn.socket.write(frame(textCommand(Command.QUERY, sql), 0));
      const response = await withTimeout(inbox.next(), config.connectTimeout, conn.socket);
      return response.payload;
    } finally {
      inbox.detach();
      conn.socket.end(frame(Buffer.from([Command.QUIT]), 0));
      conn.socket.destroySoon?.();
    }
  }
}

function readGreeting(payload: Buffer, listener: string): HandshakeV10 {
  if (payload[0] === Header.ERR) {
    const err = parseErr(payload);
    throw new GatewayError('QG_UPSTREAM_REJECTED', `listener "${listener}": the upstream database refused the connection`, {
      detail: `upstream error ${err.errno}`, cause: new Error(err.message),
    });
  }
  return parseHandshakeV10(payload);
}

function toUnavailable(err: unknown, listener: string): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError('QG_UPSTREAM_UNAVAILABLE', `listener "${listener}": cannot connect to the upstream database`, { cause: err });
}

function connectTcp(config: UpstreamConfig, listener: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = netConnect({ host: config.host, port: config.port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new GatewayError('QG_UPSTREAM_UNAVAILABLE', `listener "${listener}": cannot connect to the upstream database (no answer within ${config.connectTimeout} ms)`));
    }, config.connectTimeout);
    socket.once('connect', () => { clearTimeout(timer); socket.removeAllListeners('error'); resolve(socket); });
    socket.once('error', (err) => { clearTimeout(timer); socket.destroy(); reject(toUnavailable(err, listener)); });
  });
}

function upgrade(raw: Socket, config: UpstreamConfig): Promise<Socket> {
  const verify = config.tls.mode === 'verify-full';
  return new Promise<Socket>((resolve, reject) => {
    const secure = tlsConnect({
      socket: raw,
      servername: config.tls.servername ?? (/^[\d.:]+$/.test(config.host) ? undefined : config.host),
      rejectUnauthorized: verify,
      ca: config.tls.ca ? readFileSync(config.tls.ca) : undefined,
    });
    secure.once('secureConnect', () => { secure.removeAllListeners('error'); resolve(secure); });
    secure.once('error', reject);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, socket: Socket): Promise<T> {
  const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${ms} ms`)), ms);
  return promise.finally(() => clearTimeout(timer));
}
