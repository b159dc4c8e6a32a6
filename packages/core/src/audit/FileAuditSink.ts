import { closeSync, fdatasyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditEvent } from '../AuditEvent';
import type { AuditSink, ExportResult } from '../AuditSink';

export interface FileAuditSinkOptions {
  readonly path: string;
  /** fdatasync after every batch: slower, but an event reported ok survives a power cut. */
  readonly fsync?: boolean;
}

/**
 * Appends events as JSON lines. The embedded default sink.
 *
 * Writes are synchronous on a descriptor opened once: a batch is one append to the page cache,
 * which costs less than a round trip through the thread pool (FileHandle.appendFile measured
 * 25-30 µs per statement more on the MySQL hot path), and "ok" then really means written.
 */
export class FileAuditSink implements AuditSink {
  readonly name: string;
  private fd: number | undefined;
  private closed = false;

  constructor(private readonly options: FileAuditSinkOptions) {
    this.name = `file:${options.path}`;
  }

  private descriptor(): number {
    if (this.fd === undefined) {
      mkdirSync(dirname(this.options.path), { recursive: true });
      this.fd = openSync(this.options.path, 'a');
    }
    return this.fd;
  }

  export(events: readonly AuditEvent[]): Promise<ExportResult> {
    if (this.closed) return Promise.resolve({ ok: false, error: new Error('sink is shut down') });
    try {
      let text = '';
      for (const event of events) text += JSON.stringify(event) + '\n';
      const fd = this.descriptor();
      const bytes = Buffer.from(text, 'utf8');
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      if (this.options.fsync) fdatasyncSync(fd);
      return Promise.resolve({ ok: true });
    } catch (err) {
      // A descriptor that failed (disk full, file removed under us) is reopened on the next batch.
      this.release();
      return Promise.resolve({ ok: false, error: err instanceof Error ? err : new Error(String(err)) });
    }
  }

  flush(): Promise<void> {
    if (this.fd !== undefined) {
      try { fdatasyncSync(this.fd); } catch { /* reported by the next export */ }
    }
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.flush().then(() => this.release());
  }

  private release(): void {
    if (this.fd === undefined) return;
    try { closeSync(this.fd); } catch { /* already gone */ }
    this.fd = undefined;
  }
}
