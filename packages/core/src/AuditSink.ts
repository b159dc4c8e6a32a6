import type { AuditEvent } from './AuditEvent';

export interface ExportResult {
  readonly ok: boolean;
  /** Why it failed; the dispatcher logs it and counts it. */
  readonly error?: Error;
}

/**
 * Where audit events go. The contract (opentelemetry's exporter contract): export never throws or
 * rejects and never modifies the events; batching belongs to the dispatcher, not to each sink.
 * A sink that buffers or spools must report ok only once an event is durable in its spool or
 * delivered.
 */
export interface AuditSink {
  readonly name: string;
  export(events: readonly AuditEvent[]): Promise<ExportResult>;
  /** Resolves when everything exported so far is delivered (or durably spooled). */
  flush(): Promise<void>;
  /** Idempotent; flushes first. */
  shutdown(): Promise<void>;
}
