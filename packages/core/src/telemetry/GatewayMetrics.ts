import type { AuditTrail } from '../audit/AuditTrail';
import type { Protocol } from '../Session';
import { LATENCY_BUCKETS, type Counter, type CounterChild, type Gauge, type Histogram, type HistogramChild, type Metrics } from './Metrics';

/** The instruments one session updates, bound to its protocol once so the hot path does no lookup. */
export interface SessionMetrics {
  readonly allowed: CounterChild;
  readonly denied: CounterChild;
  readonly held: CounterChild;
  readonly duration: HistogramChild;
  readonly failed: CounterChild;
  readonly masked: CounterChild;
}

/** The gateway core's own instruments in the registry `/metrics` renders. */
export class GatewayMetrics {
  readonly sessionsActive: Gauge;
  readonly sessionsTotal: Counter;
  readonly sessionsRefused: Counter;
  readonly authFailures: Counter;
  readonly statements: Counter;
  readonly statementDuration: Histogram;
  readonly statementErrors: Counter;
  readonly maskedValues: Counter;
  private readonly bound = new Map<Protocol, SessionMetrics>();

  constructor(readonly registry: Metrics, trail: AuditTrail) {
    this.sessionsActive = registry.gauge('querygate_sessions_active', 'Client sessions open now.', { labelNames: ['protocol', 'listener'] });
    this.sessionsTotal = registry.counter('querygate_sessions_total', 'Client sessions opened (authenticated and admitted).', { labelNames: ['protocol', 'listener'] });
    this.sessionsRefused = registry.counter('querygate_sessions_refused_total', 'Sessions refused after authentication (access policy, a session hook, draining).', { labelNames: ['protocol', 'listener'] });
    this.authFailures = registry.counter('querygate_auth_failures_total', 'Failed authentications.', { labelNames: ['protocol', 'listener'] });
    this.statements = registry.counter('querygate_statements_total', 'Statements judged, by verdict (hold counts the hold; its decision counts again as allow or deny).', { labelNames: ['protocol', 'verdict'] });
    this.statementDuration = registry.histogram('querygate_statement_duration_seconds', 'Time from forwarding an allowed statement upstream to its completion.', { labelNames: ['protocol'], buckets: LATENCY_BUCKETS });
    this.statementErrors = registry.counter('querygate_statement_errors_total', 'Allowed statements that ended with an error.', { labelNames: ['protocol'] });
    this.maskedValues = registry.counter('querygate_masked_values_total', 'Result values rewritten by masking.', { labelNames: ['protocol'] });
    registry.gauge('querygate_audit_queue_events', 'Audit events emitted but not yet handed to the sinks.', { collect: () => trail.queued });
    registry.counter('querygate_audit_exported_events_total', 'Audit events handed to the sinks.', { collect: () => trail.exported });
    registry.counter('querygate_audit_sink_failures_total', 'Failed audit sink exports.', { collect: () => trail.failures });
    registry.gauge('querygate_audit_healthy', '1 while every audit sink writes, 0 while one fails (strict mode refuses statements then).', { collect: () => (trail.healthy ? 1 : 0) });
  }

  forProtocol(protocol: Protocol): SessionMetrics {
    let m = this.bound.get(protocol);
    if (!m) {
      m = {
        allowed: this.statements.labels({ protocol, verdict: 'allow' }),
        denied: this.statements.labels({ protocol, verdict: 'deny' }),
        held: this.statements.labels({ protocol, verdict: 'hold' }),
        duration: this.statementDuration.labels({ protocol }),
        failed: this.statementErrors.labels({ protocol }),
        masked: this.maskedValues.labels({ protocol }),
      };
      this.bound.set(protocol, m);
    }
    return m;
  }
}
