import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { Gateway, type AuditSink, type GatewayConfig, type ListenerFactory, type Logger, type ProtocolListener, type QuerygatePlugin } from '@querygate/core';
import { createMysqlListener } from '@querygate/protocol-mysql';
import { createPostgresListener } from '@querygate/protocol-postgres';
import { AdminServer } from './AdminServer';
import { sessionRoutes } from './console/sessionRoutes';
import { installIdentities } from './identity/installIdentities';
import { metricsSource } from './Metrics';
import { pluginLoader } from './PluginLoader';
import { Telemetry } from './Telemetry';

const FACTORIES: Readonly<Record<'postgres' | 'mysql', ListenerFactory>> = {
  postgres: createPostgresListener,
  mysql: createMysqlListener,
};

export interface GatewayServerOptions {
  readonly config: GatewayConfig;
  readonly configFile: string;
  readonly lineOf?: (path: readonly (string | number)[]) => number | undefined;
  readonly logger?: Logger;
  /** Overrides plugin resolution (tests). */
  readonly loadPlugin?: (use: string) => Promise<QuerygatePlugin>;
  readonly auditSinks?: readonly AuditSink[];
}

export interface RunningAddresses {
  readonly listeners: Readonly<Record<string, AddressInfo>>;
  readonly admin?: AddressInfo;
}

/** A whole running gateway: core, listeners, admin server. */
export class GatewayServer {
  private listeners: { name: string; listener: ProtocolListener }[] = [];
  private admin: AdminServer | undefined;
  private stopping: Promise<void> | undefined;
  /** The OpenTelemetry SDK, while `telemetry.otlp.endpoint` is configured and the server runs. */
  telemetry: Telemetry | undefined;

  private constructor(readonly gateway: Gateway, private readonly options: GatewayServerOptions) {}

  static async create(options: GatewayServerOptions): Promise<GatewayServer> {
    const gateway = await Gateway.create({
      config: options.config,
      configFile: options.configFile,
      lineOf: options.lineOf,
      logger: options.logger,
      loadPlugin: options.loadPlugin ?? pluginLoader([dirname(options.configFile), process.cwd()]),
      auditSinks: options.auditSinks,
    });
    installIdentities(gateway);
    return new GatewayServer(gateway, options);
  }

  get logger(): Logger { return this.gateway.logger; }

  async start(): Promise<RunningAddresses> {
    const addresses: Record<string, AddressInfo> = {};
    try {
      const otlp = this.options.config.telemetry.otlp;
      // Before the listeners: a session decides when it opens whether it is traced.
      if (otlp && !this.telemetry) {
        this.telemetry = Telemetry.start({ endpoint: otlp.endpoint, serviceName: this.options.config.telemetry.serviceName, logger: this.logger.child({ component: 'telemetry' }) });
      }
      for (const config of this.options.config.listeners) {
        const listener = FACTORIES[config.protocol](this.gateway.listenerRuntime(config));
        addresses[config.name] = await listener.start();
        this.listeners.push({ name: config.name, listener });
        this.logger.info('listening', { listener: config.name, protocol: config.protocol, address: `${addresses[config.name]!.address}:${addresses[config.name]!.port}` });
      }
      let admin: AddressInfo | undefined;
      if (this.options.config.admin) {
        const routes = [...this.gateway.adminRoutes, ...sessionRoutes(this.options.config.recording.dir)];
        this.admin = new AdminServer(this.options.config.admin.listen, routes, this.logger.child({ component: 'admin' }), {
          ready: () => !this.gateway.isDraining,
          metrics: metricsSource(this.gateway, () => this.activeSessions),
        });
        admin = await this.admin.start();
        this.logger.info('admin server listening', { address: `${admin.address}:${admin.port}` });
      }
      return { listeners: addresses, admin };
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  get activeSessions(): number {
    return this.listeners.reduce((n, l) => n + l.listener.activeSessions, 0);
  }

  /**
   * Graceful stop: stop accepting, let running statements finish until the deadline, end
   * sessions, flush audit. Idempotent.
   */
  stop(timeoutMs = this.options.config.gateway.shutdownTimeout): Promise<void> {
    this.stopping ??= (async () => {
      const deadline = Date.now() + timeoutMs;
      this.gateway.beginDrain();
      await Promise.all(this.listeners.map((l) => l.listener.stopAccepting().catch(() => undefined)));
      await Promise.all(this.listeners.map((l) => l.listener.drain(deadline).catch((err: unknown) => {
        this.logger.error('listener drain failed', { listener: l.name, error: String(err) });
      })));
      await this.admin?.stop();
      await this.gateway.shutdown();
      // Last: the spans of the sessions that just ended are exported before the process exits.
      await this.telemetry?.shutdown().catch((err: unknown) => this.logger.warn('telemetry shutdown failed', { error: String(err) }));
      this.logger.info('stopped');
    })();
    return this.stopping;
  }
}
