import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokens, type AuditSink, type Gateway } from '@querygate/core';

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * What a sink may report for metrics (the Kafka sink's `status()` does): duck-typed, so a sink
 * needs no dependency on the gateway to be measured.
 */
interface SinkStatus {
  readonly spooledEvents?: number;
  readonly spooledBytes?: number;
  readonly connected?: boolean;
  readonly delivered?: number;
}

function statusOf(sink: AuditSink): SinkStatus | undefined {
  const status = (sink as { status?: unknown }).status;
  if (typeof status !== 'function') return undefined;
  const value: unknown = status.call(sink);
  return typeof value === 'object' && value !== null ? (value as SinkStatus) : undefined;
}

/**
 * Registers the gateway binary's instruments (audit sinks that report a status, process figures,
 * build info) next to the core's, and returns what `/metrics` serves.
 */
export function metricsSource(gateway: Gateway, activeConnections: () => number): () => string {
  const version = packageVersion();
  const registry = gateway.metrics;
  const sinks = (): AuditSink[] => (gateway.container.isRegistered(Tokens.AuditSink) ? gateway.container.resolveAll<AuditSink>(Tokens.AuditSink) : []);
  const perSink = (pick: (s: SinkStatus) => number | boolean | undefined) => () => {
    const out: { labels: { sink: string }; value: number }[] = [];
    for (const sink of sinks()) {
      const status = statusOf(sink);
      const value = status ? pick(status) : undefined;
      if (value !== undefined) out.push({ labels: { sink: sink.name }, value: typeof value === 'boolean' ? (value ? 1 : 0) : value });
    }
    return out;
  };
  registry.gauge('querygate_audit_spool_events', 'Audit events spooled on disk, not yet acknowledged by the sink (Kafka).', { collect: perSink((s) => s.spooledEvents) });
  registry.gauge('querygate_audit_spool_bytes', 'Bytes of spooled audit events.', { collect: perSink((s) => s.spooledBytes) });
  registry.gauge('querygate_audit_sink_connected', '1 while the sink reaches its destination (Kafka answered the last send).', { collect: perSink((s) => s.connected) });
  registry.counter('querygate_audit_sink_delivered_events_total', 'Audit events the sink delivered (Kafka acknowledged).', { collect: perSink((s) => s.delivered) });
  registry.gauge('querygate_client_connections', 'Client connections the listeners hold (authenticated or not).', { collect: activeConnections });
  registry.gauge('querygate_build_info', 'Always 1; the version is a label.', { collect: () => [{ labels: { version }, value: 1 }] });
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  registry.gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', { collect: () => startSeconds });
  registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', { collect: () => process.memoryUsage.rss() });
  registry.counter('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', {
    collect: () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; },
  });
  return () => registry.render();
}
