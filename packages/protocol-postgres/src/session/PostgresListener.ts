import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { GatewayError, type ListenerRuntime, type ProtocolListener } from '@querygate/core';
import { PostgresAnalyzer } from '../analysis/PostgresAnalyzer';
import { errorMessage } from './errors';
import { Catalog } from './Catalog';
import { PostgresRelations } from './Relations';
import { ClientConnection, type ConnectionHost } from './ClientConnection';

/**
 * A PostgreSQL listener: accepts client connections on `listen`, runs each through
 * ClientConnection, routes CancelRequests by querygate's own BackendKeyData, and drains on
 * shutdown.
 */
export class PostgresListener implements ProtocolListener {
  private server: Server | undefined;
  private secureContext: SecureContext | undefined;
  private readonly connections = new Set<ClientConnection>();
  private readonly keys = new Map<number, { connection: ClientConnection; secretKey: number }>();
  private readonly catalog: Catalog;
  private readonly emptied: (() => void)[] = [];
  private readonly keyOf = new Map<ClientConnection, number>();
  private host: ConnectionHost | undefined;

  constructor(private readonly runtime: ListenerRuntime) {
    this.catalog = new Catalog(runtime.config.upstream, runtime.config.name);
  }

  get activeSessions(): number { return this.connections.size; }

  async start(): Promise<AddressInfo> {
    const config = this.runtime.config;
    const analyzer = await PostgresAnalyzer.load();
    let relations: PostgresRelations | undefined;
    if (this.runtime.relationsWanted) {
      const catalog = this.catalog;
      relations = new PostgresRelations(analyzer, (database, sql) => catalog.query(database, sql));
      this.runtime.provideRelations(relations);
    }
    if (config.tls) {
      this.secureContext = createSecureContext({ cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) });
    }
    this.host = {
      runtime: this.runtime,
      analyzer,
      catalog: this.catalog,
      relations,
      secureContext: this.secureContext,
      register: (c) => this.register(c),
      cancel: (processId, secretKey) => this.cancel(processId, secretKey),
      closed: (c) => this.closed(c),
    };
    const colon = config.listen.lastIndexOf(':');
    const host = config.listen.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(config.listen.slice(colon + 1));
    const server = createServer({ pauseOnConnect: false }, (socket) => this.accept(socket));
    server.on('error', (err) => this.runtime.logger.error('listener error', { error: err.message }));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.removeListener('error', reject); resolve(); });
    });
    const address = server.address() as AddressInfo;
    this.runtime.logger.info('postgres listener started', { address: `${address.address}:${address.port}` });
    return address;
  }

  stopAccepting(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async drain(deadline: number): Promise<void> {
    const closing = this.stopAccepting();
    // A small number is a duration rather than a point in time.
    const at = deadline < 1e12 ? Date.now() + deadline : deadline;
    for (const c of [...this.connections]) c.shutdown();
    if (this.connections.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.emptied.push(resolve)),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, Math.max(0, at - Date.now())); }),
      ]);
      clearTimeout(timer);
      for (const c of [...this.connections]) c.forceClose();
    }
    this.catalog.close();
    await closing;
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.connections.size >= this.runtime.config.maxConnections) {
      socket.end(errorMessage(new GatewayError('QG_TOO_MANY_CONNECTIONS', `listener "${this.runtime.config.name}" has reached maxConnections (${this.runtime.config.maxConnections})`), 'FATAL'));
      return;
    }
    const connection = new ClientConnection(socket, this.host!);
    this.connections.add(connection);
    connection.start();
  }

  private register(connection: ClientConnection): { processId: number; secretKey: number } {
    let processId: number;
    do processId = randomInt(1, 0x7fffffff); while (this.keys.has(processId));
    const secretKey = randomInt(-0x80000000, 0x7fffffff);
    this.keys.set(processId, { connection, secretKey });
    this.keyOf.set(connection, processId);
    return { processId, secretKey };
  }

  private cancel(processId: number, secretKey: number): void {
    const entry = this.keys.get(processId);
    if (entry && entry.secretKey === secretKey) entry.connection.cancel();
  }

  private closed(connection: ClientConnection): void {
    this.connections.delete(connection);
    const pid = this.keyOf.get(connection);
    if (pid !== undefined) { this.keys.delete(pid); this.keyOf.delete(connection); }
    if (this.connections.size === 0) for (const resolve of this.emptied.splice(0)) resolve();
  }
}
