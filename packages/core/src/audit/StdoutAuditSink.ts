import type { AuditEvent } from '../AuditEvent';
import type { AuditSink, ExportResult } from '../AuditSink';

/** Writes events as JSON lines to stdout, tagged so they can be told apart from logs. */
export class StdoutAuditSink implements AuditSink {
  readonly name = 'stdout';

  export(events: readonly AuditEvent[]): Promise<ExportResult> {
    let text = '';
    for (const event of events) text += JSON.stringify({ audit: event }) + '\n';
    return new Promise((resolve) => {
      process.stdout.write(text, (err) => resolve(err ? { ok: false, error: err } : { ok: true }));
    });
  }

  flush(): Promise<void> { return Promise.resolve(); }
  shutdown(): Promise<void> { return Promise.resolve(); }
}
