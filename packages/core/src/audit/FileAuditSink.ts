import { promises as fs, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditEvent } from '../AuditEvent';
import type { AuditSink, ExportResult } from '../AuditSink';

export interface FileAuditSinkOptions {
  readonly path: string;
  /** fsync after every batch: slower, but an event reported ok survives a power cut. */
  readonly fsync?: boolean;
}

/** Appends events as JSON lines. The embedded default sink. */
export class FileAuditSink implements AuditSink {
  readonly name: string;
  private handle: Promise<fs.FileHandle> | undefined;
  private closed = false;

  constructor(private readonly options: FileAuditSinkOptions) {
    this.name = `file:${options.path}`;
  }

  private open(): Promise<fs.FileHandle> {
    if (!this.handle) {
      mkdirSync(dirname(this.options.path), { recursive: true });
      this.handle = fs.open(this.options.path, 'a');
      this.handle.catch(() => { this.handle = undefined; });
    }
    return this.handle;
  }

  async export(events: readonly AuditEvent[]): Promise<ExportResult> {
    if (this.closed) return { ok: false, error: new Error('sink is shut down') };
    try {
      const handle = await this.open();
      let text = '';
      for (const event of events) text += JSON.stringify(event) + '\n';
      await handle.appendFile(text, 'utf8');
      if (this.options.fsync) await handle.sync();
      return { ok: true };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err : new Error(String(err)) };
    }
  }

  async flush(): Promise<void> {
    if (this.handle) await (await this.handle).sync().catch(() => undefined);
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.handle) {
      const handle = await this.handle.catch(() => undefined);
      await handle?.sync().catch(() => undefined);
      await handle?.close().catch(() => undefined);
    }
  }
}
