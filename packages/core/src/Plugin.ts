import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEvent } from './AuditEvent';
import type { AuditSink } from './AuditSink';
import type { Interceptor } from './Interceptor';
import type { Logger } from './Logger';
import type { MetricsRegistry } from './telemetry/Metrics';

/**
 * A named service one plugin provides and others use (e.g. the approval service guardrails hand
 * `approve` rules to). The type parameter ties the name to its interface.
 */
export interface Capability<T> {
  readonly name: string;
  /** Phantom field: carries T; never set. */
  readonly __type?: T;
}

export function capability<T>(name: string): Capability<T> {
  return Object.freeze({ name });
}

/** An event a plugin adds to the audit trail; the gateway fills in id, time, seq and gateway. */
export type AuditEventInput = Omit<AuditEvent, 'schemaVersion' | 'id' | 'time' | 'seq' | 'gateway'>;

export type AdminRouteHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  params: Readonly<Record<string, string>>,
) => void | Promise<void>;

/** What a plugin's `register` receives. The whole surface a plugin author needs. */
export interface PluginContext {
  /** The plugin's `options` from the config, unvalidated: the plugin validates them. */
  readonly options: unknown;
  readonly logger: Logger;
  readonly gateway: {
    /** This gateway instance (config `gateway.id`): audit events and approvals carry it. */
    readonly id: string;
    /** Directory for the plugin's own state (spools, stores), created on demand. */
    readonly dataDir: string;
    /** The admin server's public base URL, for links in notices. */
    readonly adminUrl: string | undefined;
  };
  addInterceptor(interceptor: Interceptor): void;
  addAuditSink(sink: AuditSink): void;
  provide<T>(capability: Capability<T>, implementation: T): void;
  /** A capability another plugin provides; undefined when none does. */
  use<T>(capability: Capability<T>): T | undefined;
  /** Adds an event to the audit trail (e.g. approval decisions). */
  audit(event: AuditEventInput): void;
  /**
   * Experimental: the gateway's Prometheus registry (`/metrics` on the admin server). Register
   * instruments once in `register` (names `querygate_<plugin>_...`), e.g. a gauge whose `collect`
   * reads a queue length at scrape time. Absent in contexts built by hand (tests).
   */
  readonly metrics?: MetricsRegistry;
  /** A route on the admin HTTP server, e.g. `GET /api/approvals/:id`. */
  addAdminRoute(method: string, path: string, handler: AdminRouteHandler): void;
  /** Runs at gateway shutdown after sessions have ended, before sinks flush. */
  onShutdown(task: () => Promise<void>): void;
}

/** Thrown by `register` for bad options; the config loader reports it at `plugins[i].options.<path>`. */
export class PluginOptionsError extends Error {
  constructor(readonly path: readonly (string | number)[], message: string) {
    super(message);
    this.name = 'PluginOptionsError';
  }
}

/**
 * A plugin module's default export. Loaded by name from the config (`plugins[].use`): a built-in
 * name or a package name resolvable from the gateway.
 */
export interface QuerygatePlugin {
  readonly name: string;
  /** Capabilities this plugin needs; startup fails if no plugin configured before it provides them. */
  readonly requires?: readonly string[];
  /** Capabilities this plugin provides. */
  readonly provides?: readonly string[];
  /** Plugins that, when configured, must come before this one (their hooks run first). */
  readonly after?: readonly string[];
  register(context: PluginContext): void | Promise<void>;
}

/** Identity function that gives plugin authors type checking on their default export. */
export function definePlugin(plugin: QuerygatePlugin): QuerygatePlugin {
  return plugin;
}
