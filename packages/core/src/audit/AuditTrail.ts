import { AUDIT_SCHEMA_VERSION, type AuditEvent } from '../AuditEvent';
import type { AuditSink } from '../AuditSink';
import type { Logger } from '../Logger';
import type { AuditEventInput } from '../Plugin';
import { describe } from '../pipeline/Pipeline';

export interface AuditTrailOptions {
  readonly gatewayId: string;
  /** Strict mode: statements are refused while no sink can write. */
  readonly strict: boolean;
  /** Events per export call. */
  readonly maxBatch?: number;
}

/**
 * Collects audit events and hands them to every sink in batches, at most once per event-loop turn
 * and one batch at a time, so audit never adds a round trip to a statement. Batches go out in
 * emission order, so each sink sees each session's events in sequence.
 */
export class AuditTrail {
  private pending: AuditEvent[] = [];
  private scheduled = false;
  private exporting = false;
  private clockMs = NaN;
  private clockText = '';
  private draining: Promise<void> = Promise.resolve();
  private readonly sinks: AuditSink[] = [];
  private readonly failing = new Set<string>();
  private closed = false;
  exported = 0;
  failures = 0;

  constructor(private readonly options: AuditTrailOptions, private readonly logger: Logger) {}

  addSink(sink: AuditSink): void { this.sinks.push(sink); }
  get sinkNames(): readonly string[] { return this.sinks.map((s) => s.name); }

  /** False while any sink reports failures (strict mode refuses statements then). */
  get healthy(): boolean { return this.failing.size === 0; }
  get strict(): boolean { return this.options.strict; }
  get queued(): number { return this.pending.length; }

  emit(input: AuditEventInput & { readonly seq: number }): AuditEvent {
    const event: AuditEvent = {
      schemaVersion: AUDIT_SCHEMA_VERSION,
      id: `${input.sessionId}:${input.seq}`,
      time: this.now(),
      gateway: this.options.gatewayId,
      ...input,
    };
    if (this.closed) {
      this.logger.error('audit event after shutdown', { event: event.event, sessionId: event.sessionId });
    }
    this.pending.push(event);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
    return event;
  }

  /** The current time as ISO text; events of the same millisecond share one formatting. */
  private now(): string {
    const ms = Date.now();
    if (ms !== this.clockMs) {
      this.clockMs = ms;
      this.clockText = new Date(ms).toISOString();
    }
    return this.clockText;
  }

  private drain(): void {
    this.scheduled = false;
    // While an export is in flight, events wait and leave together with everything emitted until
    // it returns: under load that is one sink write per export round trip, not one per event-loop turn.
    if (this.exporting || this.pending.length === 0) return;
    this.exporting = true;
    this.draining = this.exportPending();
  }

  private async exportPending(): Promise<void> {
    const max = this.options.maxBatch ?? 1000;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        if (batch.length <= max) {
          await this.exportBatch(batch);
          continue;
        }
        for (let i = 0; i < batch.length; i += max) await this.exportBatch(batch.slice(i, i + max));
      }
    } finally {
      this.exporting = false;
    }
  }

  private async exportBatch(batch: readonly AuditEvent[]): Promise<void> {
    await Promise.all(this.sinks.map(async (sink) => {
      let ok = false;
      let error: unknown;
      try {
        const result = await sink.export(batch);
        ok = result.ok;
        error = result.error;
      } catch (err) {
        // The contract says sinks never throw; one that does is treated as a failed export.
        error = err;
      }
      if (ok) {
        if (this.failing.delete(sink.name)) this.logger.info('audit sink recovered', { sink: sink.name });
      } else {
        this.failures++;
        if (!this.failing.has(sink.name)) {
          this.failing.add(sink.name);
          this.logger.error('audit sink failed', { sink: sink.name, events: batch.length, error: describe(error) });
        }
      }
    }));
    this.exported += batch.length;
  }

  /** Resolves once everything emitted so far has been exported and every sink has flushed. */
  async flush(): Promise<void> {
    this.drain();
    await this.draining;
    await Promise.all(this.sinks.map((s) => s.flush().catch((err: unknown) => {
      this.logger.error('audit sink flush failed', { sink: s.name, error: describe(err) });
    })));
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await Promise.all(this.sinks.map((s) => s.shutdown().catch((err: unknown) => {
      this.logger.error('audit sink shutdown failed', { sink: s.name, error: describe(err) });
    })));
  }
}
