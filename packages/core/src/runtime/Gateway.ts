import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { AuditTrail } from '../audit/AuditTrail';
import { FileAuditSink } from '../audit/FileAuditSink';
import { StdoutAuditSink } from '../audit/StdoutAuditSink';
import type { AuditSink } from '../AuditSink';
import { ConfigError, type ConfigProblem } from '../config/ConfigError';
import type { GatewayConfig, ListenerConfig } from '../config/schema';
import { GatewayError } from '../GatewayError';
import { AccessPolicy } from '../identity/AccessPolicy';
import { IdentityDirectory } from '../identity/IdentityProvider';
import { LocalUser } from '../identity/LocalUser';
import type { Interceptor } from '../Interceptor';
import type { Logger } from '../Logger';
import { GatewaySession, identityOf } from '../pipeline/GatewaySession';
import { Pipeline } from '../pipeline/Pipeline';
import type { AdminRouteHandler, Capability, PluginContext, QuerygatePlugin } from '../Plugin';
import { PluginOptionsError } from '../Plugin';
import { Recorder } from '../recording/Recorder';
import { RelationCatalogCapability, type RelationCatalog } from '../Relations';
import type { Protocol, Session } from '../Session';
import { GatewayMetrics } from '../telemetry/GatewayMetrics';
import { Metrics } from '../telemetry/Metrics';
import { SessionTrace, TRACER_NAME, tracingActive } from '../telemetry/SessionTrace';
import { tracedInterceptor } from '../telemetry/tracedInterceptor';
import { capabilityToken, Tokens } from '../tokens';
import { JsonLogger } from './JsonLogger';
import type { ListenerRuntime, SessionInit } from './ListenerRuntime';

export interface AdminRoute {
  readonly method: string;
  readonly path: string;
  readonly plugin: string;
  readonly handler: AdminRouteHandler;
}

export interface GatewayOptions {
  readonly config: GatewayConfig;
  /** Line of a config key path, so plugin option errors point into the file. */
  readonly lineOf?: (path: readonly (string | number)[]) => number | undefined;
  readonly configFile?: string;
  readonly logger?: Logger;
  /** Turns `plugins[].use` into a plugin: built-in names and package names. */
  readonly loadPlugin: (use: string) => Promise<QuerygatePlugin>;
  /** Extra audit sinks (tests, embedding). */
  readonly auditSinks?: readonly AuditSink[];
}

/**
 * The protocol-agnostic core of a running gateway: plugins wired through a tsyringe container,
 * the pipeline, the audit trail, identities and access policy. The binary adds listeners and the
 * admin server around it.
 */
export class Gateway {
  readonly container: DependencyContainer;
  readonly trail: AuditTrail;
  readonly identities = new IdentityDirectory();
  readonly adminRoutes: AdminRoute[] = [];
  readonly logger: Logger;
  private readonly access: AccessPolicy;
  private readonly shutdownTasks: (() => Promise<void>)[] = [];
  private pipeline!: Pipeline;
  /** The same interceptors wrapped in spans; used by sessions opened while tracing is on. */
  private tracedPipeline: Pipeline | undefined;
  /** The Prometheus registry `/metrics` renders; plugins reach it as `PluginContext.metrics`. */
  readonly metrics = new Metrics();
  readonly gatewayMetrics: GatewayMetrics;
  /** Session recording (`recording.dir`); undefined when off. */
  recorder: Recorder | undefined;
  private draining = false;
  private stopped = false;
  readonly sessions = new Map<string, GatewaySession>();
  /** Relation catalogs by listener name, as adapters provide them. */
  private readonly relationCatalogs = new Map<string, RelationCatalog>();
  /** Names of capabilities plugins looked up at registration. */
  private readonly usedCapabilities = new Set<string>();

  private constructor(readonly config: GatewayConfig, private readonly options: GatewayOptions) {
    this.logger = options.logger ?? new JsonLogger(config.logging.level, { gateway: config.gateway.id });
    this.container = rootContainer.createChildContainer();
    this.trail = new AuditTrail({ gatewayId: config.gateway.id, strict: config.audit.strict }, this.logger.child({ component: 'audit' }));
    this.access = new AccessPolicy(config.access);
    this.container.register(Tokens.Config, { useValue: config });
    this.container.register(Tokens.Logger, { useValue: this.logger });
    this.container.register(Tokens.AuditTrail, { useValue: this.trail });
    this.container.register(Tokens.Identities, { useValue: this.identities });
    this.gatewayMetrics = new GatewayMetrics(this.metrics, this.trail);
    const catalogs = this.relationCatalogs;
    this.container.register(capabilityToken(RelationCatalogCapability.name), {
      useValue: { of: (session: Session) => catalogs.get(session.listener) },
    });
  }

  static async create(options: GatewayOptions): Promise<Gateway> {
    const gateway = new Gateway(options.config, options);
    await gateway.init();
    return gateway;
  }

  private async init(): Promise<void> {
    const { config } = this;
    if (config.recording.dir !== undefined) {
      const recorder = new Recorder({
        dir: config.recording.dir,
        gatewayId: config.gateway.id,
        maxRowsPerResult: config.recording.maxRowsPerResult,
        statementText: config.recording.statementText,
        logger: this.logger.child({ component: 'recording' }),
      });
      this.recorder = recorder;
      this.metrics.gauge('querygate_recordings_active', 'Session recordings open now.', { collect: () => recorder.active });
      this.metrics.counter('querygate_recordings_total', 'Session recordings started.', { collect: () => recorder.opened });
      this.metrics.counter('querygate_recording_bytes_total', 'Bytes written to session recordings.', { collect: () => recorder.bytesWritten });
      this.metrics.counter('querygate_recording_errors_total', 'Recordings that could not be started or failed while writing.', { collect: () => recorder.errors });
    }
    for (const user of config.identities.users) {
      this.identities.addUser(new LocalUser(user.name, user.password.reveal(), user.groups, user.claims));
    }
    for (const sink of config.audit.sinks) {
      this.trail.addSink(sink.type === 'file' ? new FileAuditSink({ path: sink.path, fsync: sink.fsync }) : new StdoutAuditSink());
    }
    for (const sink of this.options.auditSinks ?? []) this.trail.addSink(sink);
    const interceptors = await this.loadPlugins();
    for (const sink of this.container.isRegistered(Tokens.AuditSink) ? this.container.resolveAll<AuditSink>(Tokens.AuditSink) : []) {
      this.trail.addSink(sink);
    }
    this.pipeline = new Pipeline(interceptors, { hookTimeoutMs: config.pipeline.hookTimeout }, this.logger.child({ component: 'pipeline' }));
  }

  /** Loads `plugins` in order, validating names, ordering and capabilities. */
  private async loadPlugins(): Promise<Interceptor[]> {
    const problems: ConfigProblem[] = [];
    const lineOf = this.options.lineOf ?? (() => undefined);
    const loaded: { plugin: QuerygatePlugin; index: number; instance: string }[] = [];
    const instances = new Set<string>();
    for (const [index, entry] of this.config.plugins.entries()) {
      let plugin: QuerygatePlugin;
      try {
        plugin = await this.options.loadPlugin(entry.use);
      } catch (err) {
        problems.push({ path: `plugins[${index}].use`, line: lineOf(['plugins', index, 'use']), message: (err as Error).message });
        continue;
      }
      const instance = entry.name ?? plugin.name;
      if (instances.has(instance)) {
        problems.push({ path: `plugins[${index}]`, line: lineOf(['plugins', index]), message: `plugin "${instance}" is configured twice; give one a distinct \`name\`` });
        continue;
      }
      instances.add(instance);
      loaded.push({ plugin, index, instance });
    }
    const provided = new Set<string>();
    const seen = new Set<string>();
    for (const { plugin, index } of loaded) {
      for (const need of plugin.requires ?? []) {
        if (!provided.has(need)) {
          const by = loaded.find((l) => l.plugin.provides?.includes(need));
          problems.push({
            path: `plugins[${index}].use`, line: lineOf(['plugins', index, 'use']),
            message: by
              ? `plugin "${plugin.name}" requires "${need}", which plugin "${by.plugin.name}" provides, so that plugin must be listed before it`
              : `plugin "${plugin.name}" requires "${need}", which no configured plugin provides`,
          });
        }
      }
      for (const before of plugin.after ?? []) {
        const other = loaded.find((l) => l.plugin.name === before);
        if (other && !seen.has(before)) {
          problems.push({ path: `plugins[${index}].use`, line: lineOf(['plugins', index, 'use']), message: `plugin "${plugin.name}" must come after "${before}" (plugins[${other.index}])` });
        }
      }
      for (const p of plugin.provides ?? []) provided.add(p);
      seen.add(plugin.name);
    }
    if (problems.length > 0) throw new ConfigError(this.options.configFile ?? 'config', problems);

    const interceptors: Interceptor[] = [];
    for (const { plugin, index, instance } of loaded) {
      const context = this.pluginContext(plugin, instance, index, interceptors);
      try {
        await plugin.register(context);
      } catch (err) {
        if (err instanceof PluginOptionsError) {
          const path = ['plugins', index, 'options', ...err.path];
          problems.push({ path: `plugins[${index}].options${err.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`, line: lineOf(path), message: err.message });
        } else if (err instanceof ConfigError) {
          problems.push(...err.problems);
        } else {
          problems.push({ path: `plugins[${index}]`, line: lineOf(['plugins', index]), message: `plugin "${plugin.name}" failed to start: ${(err as Error).message}` });
        }
      }
    }
    if (problems.length > 0) throw new ConfigError(this.options.configFile ?? 'config', problems);
    const names = new Set<string>();
    for (const i of interceptors) {
      if (names.has(i.name)) throw new ConfigError(this.options.configFile ?? 'config', [{ path: 'plugins', message: `two interceptors are named "${i.name}"` }]);
      names.add(i.name);
    }
    return interceptors;
  }

  private pluginContext(_plugin: QuerygatePlugin, instance: string, index: number, interceptors: Interceptor[]): PluginContext {
    const dataDir = join(this.config.gateway.dataDir, 'plugins', instance);
    const entry = this.config.plugins[index]!;
    const logger = this.logger.child({ plugin: instance });
    const adminUrl = this.config.admin ? (this.config.admin.publicUrl ?? `http://${this.config.admin.listen}`) : undefined;
    return {
      options: entry.options ?? {},
      logger,
      gateway: {
        id: this.config.gateway.id,
        get dataDir(): string { mkdirSync(dataDir, { recursive: true }); return dataDir; },
        adminUrl,
      },
      addInterceptor: (interceptor) => {
        interceptors.push(interceptor);
        this.container.register(Tokens.Interceptor, { useValue: interceptor });
      },
      addAuditSink: (sink) => { this.container.register(Tokens.AuditSink, { useValue: sink }); },
      provide: <T>(cap: Capability<T>, implementation: T) => {
        this.container.register(capabilityToken(cap.name), { useValue: implementation });
      },
      use: <T>(cap: Capability<T>): T | undefined => {
        this.usedCapabilities.add(cap.name);
        const token = capabilityToken(cap.name);
        return this.container.isRegistered(token) ? this.container.resolve<T>(token) : undefined;
      },
      audit: (event) => {
        const session = this.sessions.get(event.sessionId);
        if (session) session.audit(event);
        else this.trail.emit({ ...event, seq: 0 });
      },
      metrics: this.metrics,
      addAdminRoute: (method, path, handler) => { this.adminRoutes.push({ method: method.toUpperCase(), path, plugin: instance, handler }); },
      onShutdown: (task) => { this.shutdownTasks.push(task); },
    };
  }

  get interceptors(): readonly Interceptor[] { return this.pipeline.interceptors; }
  get isDraining(): boolean { return this.draining; }

  /** The runtime a protocol adapter gets for one listener. */
  listenerRuntime(config: ListenerConfig): ListenerRuntime {
    const isDraining = (): boolean => this.draining;
    const logger = this.logger.child({ listener: config.name, protocol: config.protocol });
    return {
      protocol: config.protocol as Protocol,
      config,
      logger,
      identities: this.identities,
      get draining(): boolean { return isDraining(); },
      newSessionId: () => randomUUID(),
      openSession: (init) => this.openSession(config, init, logger),
      relationsWanted: this.usedCapabilities.has(RelationCatalogCapability.name),
      provideRelations: (catalog) => { this.relationCatalogs.set(config.name, catalog); },
      authFailed: (failure) => {
        this.gatewayMetrics.authFailures.labels({ protocol: config.protocol, listener: config.name }).inc();
        this.trail.emit({
          event: 'auth.failed', sessionId: failure.sessionId, seq: 1, listener: config.name, protocol: config.protocol,
          clientAddress: failure.clientAddress, claimedUser: failure.claimedUser, error: { code: 'QG_AUTH_FAILED', message: failure.reason },
        });
        logger.warn('authentication failed', { sessionId: failure.sessionId, user: failure.claimedUser, client: failure.clientAddress, reason: failure.reason });
      },
    };
  }

  private async openSession(listener: ListenerConfig, init: SessionInit, logger: Logger): Promise<GatewaySession> {
    const session: Session = {
      id: init.id,
      identity: init.identity,
      protocol: listener.protocol,
      listener: listener.name,
      database: init.database,
      clientAddress: init.clientAddress,
      startedAt: new Date(),
      clientParameters: Object.freeze({ ...init.clientParameters }),
      tls: init.tls,
      state: new Map(),
    };
    // Decided once per session: with no tracer provider registered, sessions create no spans at all.
    const traced = tracingActive();
    const pipeline = traced ? (this.tracedPipeline ??= new Pipeline(this.pipeline.interceptors.map(tracedInterceptor), { hookTimeoutMs: this.config.pipeline.hookTimeout }, this.logger.child({ component: 'pipeline' }))) : this.pipeline;
    const gs = new GatewaySession(session, pipeline, this.trail, logger.child({ sessionId: session.id }), this.config.pipeline.maxQueuedMessages);
    const labels = { protocol: listener.protocol, listener: listener.name };
    const refuse = (error: GatewayError): never => {
      this.gatewayMetrics.sessionsRefused.labels(labels).inc();
      gs.audit({ event: 'session.refused', identity: identityOf(session), clientAddress: session.clientAddress, error: { code: error.code, message: error.message }, rule: error.rule });
      throw error;
    };
    if (this.draining) refuse(new GatewayError('QG_SHUTTING_DOWN'));
    if (!this.access.allows(init.identity, listener.name, init.database)) {
      refuse(new GatewayError('QG_ACCESS_DENIED', `identity "${init.identity.subject}" may not open database "${init.database}" on listener "${listener.name}"`, { rule: 'access' }));
    }
    const decided = await this.pipeline.startSession(session);
    if (decided.action === 'deny') refuse(decided.error);
    this.sessions.set(session.id, gs);
    gs.observe({
      recording: this.recorder?.start(session),
      trace: traced ? new SessionTrace(trace.getTracer(TRACER_NAME), session) : undefined,
      metrics: this.gatewayMetrics.forProtocol(listener.protocol),
    });
    this.gatewayMetrics.sessionsTotal.labels(labels).inc();
    const active = this.gatewayMetrics.sessionsActive.labels(labels);
    active.inc();
    gs.audit({
      event: 'session.started',
      identity: identityOf(session),
      clientAddress: session.clientAddress,
      claimedUser: session.clientParameters.user,
    });
    const end = gs.end.bind(gs);
    gs.end = async (reason) => {
      if (this.sessions.delete(session.id)) active.dec();
      await end(reason);
    };
    return gs;
  }

  /** New sessions are refused from now on. */
  beginDrain(): void { this.draining = true; }

  /** After listeners drained: plugin shutdown tasks, interceptors, then audit flush. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.draining = true;
    for (const gs of [...this.sessions.values()]) await gs.end('shutdown');
    await this.recorder?.shutdown();
    for (const task of this.shutdownTasks) {
      await task().catch((err: unknown) => this.logger.error('plugin shutdown task failed', { error: String(err) }));
    }
    for (const interceptor of this.pipeline?.interceptors ?? []) {
      await interceptor.shutdown?.().catch((err: unknown) => this.logger.error('interceptor shutdown failed', { interceptor: interceptor.name, error: String(err) }));
    }
    await this.trail.shutdown();
  }
}
