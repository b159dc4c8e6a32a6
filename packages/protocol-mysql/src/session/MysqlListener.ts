import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { ListenerRuntime, ProtocolListener } from '@querygate/core';
import { MysqlAnalyzer } from '../analysis/MysqlAnalyzer';
import type { HandshakeV10 } from '../codec/messages';
import { ClientSession } from './ClientSession';
import { MysqlRelations, readCatalog } from './Relations';
import type { AuthPluginName, MysqlListenerOptions, SessionServices } from './SessionServices';
import { UpstreamConnection } from './UpstreamConnection';

/**
 * A MySQL/MariaDB listener: accepts clients, gives each a connection id of querygate's own, and
 * runs a ClientSession per connection. Holds what sessions share: the analyser, the RSA key pair
 * for caching_sha2_password over plaintext, the TLS context and the upstream's greeting.
 */
export class MysqlListener implements ProtocolListener, SessionServices {
  private server: Server | undefined;
  private readonly sessions = new Map<number, ClientSession>();
  private nextConnectionId = 1;
  private info: Promise<HandshakeV10> | undefined;
  private analyzerValue: MysqlAnalyzer | undefined;
  relations: MysqlRelations | undefined;
  private keys: { publicKeyPem: string; privateKeyPem: string } | undefined;
  secureContext: SecureContext | undefined;
  readonly authPlugin: AuthPluginName;
  readonly maxPacketSize: number;
  readonly authTimeoutMs: number;

  constructor(readonly runtime: ListenerRuntime, options: MysqlListenerOptions = {}) {
    this.authPlugin = options.authPlugin ?? 'caching_sha2_password';
    this.maxPacketSize = options.maxPacketSize ?? 64 * 1024 * 1024;
    this.authTimeoutMs = options.authTimeoutMs ?? 30_000;
  }

  get analyzer(): MysqlAnalyzer { return this.analyzerValue!; }
  get publicKeyPem(): string { return this.keys!.publicKeyPem; }
  get privateKeyPem(): string { return this.keys!.privateKeyPem; }
  get activeSessions(): number { return this.sessions.size; }

  async start(): Promise<AddressInfo> {
    const { config } = this.runtime;
    const analyzer = await MysqlAnalyzer.load();
    this.analyzerValue = analyzer;
    if (this.runtime.relationsWanted) {
      const relations = new MysqlRelations(analyzer, () => readCatalog(config.upstream, config.name));
      this.relations = relations;
      this.runtime.provideRelations(relations);
    }
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.keys = {
      publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    if (config.tls) {
      this.secureContext = createSecureContext({ cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) });
    }
    const colon = config.listen.lastIndexOf(':');
    const host = config.listen.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(config.listen.slice(colon + 1));
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    server.on('error', (err) => this.runtime.logger.error('listener error', { error: err.message }));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => { server.off('error', reject); resolve(); });
    });
    const address = server.address() as AddressInfo;
    this.runtime.logger.info('mysql listener started', { address: `${address.address}:${address.port}` });
    return address;
  }

  private accept(socket: Socket): void {
    socket.on('error', () => undefined);
    if (this.sessions.size >= this.runtime.config.maxConnections) {
      const session = new ClientSession(this, socket, 0);
      session.fatalTooMany();
      return;
    }
    const id = this.allocateId();
    const session = new ClientSession(this, socket, id);
    this.sessions.set(id, session);
    session.start().catch((err: unknown) => {
      this.runtime.logger.error('session failed', { error: err instanceof Error ? err.stack : String(err) });
      session.destroy();
    });
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextConnectionId;
      this.nextConnectionId = this.nextConnectionId >= 0xfffffffe ? 1 : this.nextConnectionId + 1;
      if (!this.sessions.has(id)) return id;
    }
  }

  serverInfo(): Promise<HandshakeV10> {
    if (!this.info) {
      const probe = UpstreamConnection.probe(this.runtime.config.upstream, this.runtime.config.name);
      this.info = probe;
      // A failed probe is not cached: the next client tries again.
      probe.catch(() => { if (this.info === probe) this.info = undefined; });
    }
    return this.info;
  }

  session(connectionId: number): ClientSession | undefined {
    return this.sessions.get(connectionId);
  }

  closed(session: ClientSession): void {
    if (this.sessions.get(session.connectionId) === session) this.sessions.delete(session.connectionId);
  }

  async stopAccepting(): Promise<void> {
    const server = this.server;
    if (!server || !server.listening) return;
    // close() stops listening at once; its callback waits for every connection, which drain ends.
    server.close();
  }

  async drain(deadline: number): Promise<void> {
    await this.stopAccepting();
    for (const session of [...this.sessions.values()]) session.drain();
    while (this.sessions.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    for (const session of [...this.sessions.values()]) session.destroy();
  }
}
