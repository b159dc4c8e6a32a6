import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP, Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { GatewayError, type Logger, type UpstreamConfig } from '@querygate/core';
import { Framer } from '../codec/Framer';
import { AuthCode, Backend } from '../codec/messages';
import {
  parseAuthentication, parseBackendKeyData, parseErrorFields,
} from '../codec/parser';
import {
  passwordMessage, saslInitialResponse, saslResponse, sslRequest, startupMessage,
} from '../codec/serializer';
import { ScramClientExchange } from './ScramClientExchange';
import { UpstreamStartupError } from './UpstreamStartupError';

/** An authenticated upstream connection, ready for queries, handed over to a session. */
export interface UpstreamLink {
  readonly socket: Socket | TLSSocket;
  /** The upstream's ParameterStatus messages, as received (relayed to the client unchanged). */
  readonly parameterStatus: readonly Buffer[];
  readonly processId: number;
  readonly secretKey: number;
  readonly tls: boolean;
  /** Bytes after the first ReadyForQuery (normally none). */
  readonly rest: Buffer;
}

export interface ConnectOptions {
  readonly listener: string;
  readonly database: string;
  /** Startup parameters besides user and database. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Told why a login the upstream asked for was refused by querygate itself (e.g. SCRAM iterations). */
  readonly logger?: Logger;
}

/**
 * Opens querygate's own login to the upstream server: TCP, optional TLS (per `upstream.tls.mode`),
 * then trust / cleartext / md5 / SCRAM-SHA-256 as the server asks. Bounded by
 * `upstream.connectTimeout`; failures are GatewayErrors naming the listener (or an
 * UpstreamStartupError to relay).
 */
export function connectUpstream(config: UpstreamConfig, options: ConnectOptions): Promise<UpstreamLink> {
  return new Promise<UpstreamLink>((resolve, reject) => {
    let socket: Socket | TLSSocket = new Socket();
    let settled = false;
    const unavailable = (why: string): GatewayError => new GatewayError(
      'QG_UPSTREAM_UNAVAILABLE',
      `cannot connect to the upstream database of listener "${options.listener}" (${config.host}:${config.port}): ${why}`,
    );
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(unavailable(`no answer within ${config.connectTimeout} ms`)), config.connectTimeout);
    const onError = (err: Error): void => fail(unavailable(err.message));
    const onClose = (): void => fail(unavailable('the server closed the connection during login'));
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.setNoDelay(true);

    const login = (tls: boolean): void => {
      const framer = new Framer(false);
      const parameterStatus: Buffer[] = [];
      let processId = 0;
      let secretKey = 0;
      let scram: ScramClientExchange | undefined;
      const password = config.password?.reveal() ?? '';
      const params: Record<string, string> = { ...options.parameters, user: config.user, database: options.database };
      socket.write(startupMessage(params));
      // While the SCRAM proof is computed (on the thread pool), messages wait in the framer.
      let computing = false;
      const onData = (chunk: Buffer): void => {
        try {
          framer.push(chunk);
        } catch (err) {
          fail(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        drain();
      };
      const answerScram = (exchange: ScramClientExchange, serverFirst: string): void => {
        computing = true;
        exchange.clientFinal(serverFirst).then((clientFinal) => {
          if (settled) return;
          computing = false;
          socket.write(saslResponse(clientFinal));
          drain();
        }, (err: unknown) => {
          const error = err instanceof GatewayError
            ? new GatewayError(err.code, `listener "${options.listener}": ${err.message}`, { detail: err.detail, cause: err })
            : new GatewayError('QG_UPSTREAM_REJECTED', `the SCRAM login to the upstream of listener "${options.listener}" failed`, { cause: err });
          options.logger?.error('upstream SCRAM challenge refused', { listener: options.listener, upstream: `${config.host}:${config.port}`, error: error.message });
          fail(error);
        });
      };
      const drain = (): void => {
        try {
          while (!computing && !settled && framer.next()) {
            const buf = framer.buffer;
            const { bodyStart, end, start } = framer;
            switch (framer.type) {
              case Backend.Authentication: {
                const auth = parseAuthentication(buf, bodyStart, end);
                if (auth.code === AuthCode.Ok) break;
                if (auth.code === AuthCode.CleartextPassword) {
                  socket.write(passwordMessage(password));
                } else if (auth.code === AuthCode.MD5Password && 'salt' in auth) {
                  const inner = createHash('md5').update(password + config.user).digest('hex');
                  const outer = createHash('md5').update(inner).update(auth.salt).digest('hex');
                  socket.write(passwordMessage(`md5${outer}`));
                } else if (auth.code === AuthCode.SASL && 'mechanisms' in auth) {
                  if (!auth.mechanisms.includes('SCRAM-SHA-256')) {
                    throw new GatewayError('QG_UPSTREAM_REJECTED', `the upstream of listener "${options.listener}" offers no supported SASL mechanism (${auth.mechanisms.join(', ')})`);
                  }
                  scram = new ScramClientExchange(password);
                  socket.write(saslInitialResponse('SCRAM-SHA-256', scram.clientFirst()));
                } else if (auth.code === AuthCode.SASLContinue && 'data' in auth && scram) {
                  answerScram(scram, auth.data.toString('utf8'));
                } else if (auth.code === AuthCode.SASLFinal && 'data' in auth && scram) {
                  if (!scram.verifyServerFinal(auth.data.toString('utf8'))) {
                    throw new GatewayError('QG_UPSTREAM_REJECTED', `the upstream of listener "${options.listener}" failed to prove its SCRAM identity`);
                  }
                } else {
                  throw new GatewayError('QG_UPSTREAM_REJECTED', `the upstream of listener "${options.listener}" asks for an unsupported authentication method (${auth.code})`);
                }
                break;
              }
              case Backend.ParameterStatus:
                parameterStatus.push(Buffer.from(buf.subarray(start, end)));
                break;
              case Backend.BackendKeyData: {
                const key = parseBackendKeyData(buf, bodyStart, end);
                processId = key.processId;
                secretKey = key.secretKey;
                break;
              }
              case Backend.ErrorResponse: {
                const fields = parseErrorFields(buf, bodyStart, end);
                const code = fields.C ?? '';
                if (code.startsWith('28')) {
                  throw new GatewayError('QG_UPSTREAM_REJECTED', `the upstream database of listener "${options.listener}" refused querygate's login as "${config.user}"`, { detail: fields.M });
                }
                throw new UpstreamStartupError(fields, Buffer.from(buf.subarray(start, end)));
              }
              case Backend.ReadyForQuery: {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                socket.removeListener('data', onData);
                socket.removeListener('error', onError);
                socket.removeListener('close', onClose);
                socket.pause();
                resolve({ socket, parameterStatus, processId, secretKey, tls, rest: framer.takeRest() });
                return;
              }
              default:
                // NoticeResponse, NegotiateProtocolVersion: nothing to act on during login.
                break;
            }
          }
        } catch (err) {
          fail(err instanceof Error ? err : new Error(String(err)));
        }
      };
      socket.on('data', onData);
    };

    socket.connect(config.port, config.host, () => {
      if (config.tls.mode === 'disable') { login(false); return; }
      socket.write(sslRequest());
      socket.once('data', (answer: Buffer) => {
        if (answer[0] === 0x53 /* S */) {
          const plain = socket as Socket;
          plain.removeListener('error', onError);
          plain.removeListener('close', onClose);
          const verify = config.tls.mode === 'verify-full';
          const servername = config.tls.servername ?? (isIP(config.host) ? undefined : config.host);
          let ca: Buffer | undefined;
          try {
            ca = config.tls.ca ? readFileSync(config.tls.ca) : undefined;
          } catch (err) {
            fail(unavailable(`cannot read upstream.tls.ca: ${(err as Error).message}`));
            return;
          }
          const secure = tlsConnect({
            socket: plain,
            servername,
            ca,
            rejectUnauthorized: verify,
            ...(verify ? {} : { checkServerIdentity: () => undefined }),
          });
          socket = secure;
          secure.on('error', onError);
          secure.on('close', onClose);
          secure.once('secureConnect', () => login(true));
        } else if (config.tls.mode === 'require' || config.tls.mode === 'verify-full') {
          fail(unavailable(`the server does not support TLS, and upstream.tls.mode is ${config.tls.mode}`));
        } else {
          login(false);
        }
      });
    });
  });
}
