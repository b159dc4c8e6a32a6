import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '@querygate/core';
import type { ApprovalRequest } from '../ApprovalRequest';
import { MemoryApprovalStore } from './MemoryApprovalStore';

export interface FileApprovalStoreOptions {
  /** The JSON-lines log. */
  readonly path: string;
  /** Decided requests older than this (and whose grant has ended) are dropped when the log is compacted. */
  readonly retentionMs: number;
  readonly logger: Logger;
}

const LOG_FORMAT = 1;

/**
 * The embedded store: an append-only JSON-lines log (one full request snapshot per line, the last
 * line of an id wins) with the index in memory. Decisions are fsynced before anyone hears of them;
 * a new request is appended without fsync (a crash that loses it also lost the session waiting on
 * it). The log is compacted at open. One gateway process per file: replicas need the PostgreSQL store.
 */
export class FileApprovalStore extends MemoryApprovalStore {
  private handle: FileHandle | undefined;
  private writes: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: FileApprovalStoreOptions) {
    super();
  }

  override async open(): Promise<void> {
    mkdirSync(dirname(this.options.path), { recursive: true });
    let text = '';
    try {
      text = readFileSync(this.options.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let lines = 0;
    let torn = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      lines++;
      try {
        const entry = JSON.parse(line) as { v?: number; request?: ApprovalRequest };
        if (entry.v !== LOG_FORMAT || !entry.request || typeof entry.request.id !== 'string') throw new Error('not a request entry');
        const before = this.requests.get(entry.request.id);
        if (!before || before.version <= entry.request.version) this.requests.set(entry.request.id, entry.request);
      } catch {
        // A line cut short by a crash mid-append; everything before it is intact.
        torn++;
      }
    }
    if (torn > 0) this.options.logger.warn('approval log: skipped unreadable lines', { path: this.options.path, lines: torn });
    const now = Date.now();
    for (const [id, r] of this.requests) {
      const grantEnds = r.grant ? Date.parse(r.grant.until) : 0;
      const end = Math.max(r.decidedAt ? Date.parse(r.decidedAt) : now, grantEnds);
      if (r.status !== 'pending' && end + this.options.retentionMs < now) this.requests.delete(id);
    }
    if (lines > 0 && (lines > this.requests.size * 2 + 64 || torn > 0 || lines > this.requests.size + 1000)) {
      await this.compact();
    }
    this.handle = await open(this.options.path, 'a');
  }

  /** Rewrites the log with one line per live request: write a temp file, fsync, rename. */
  private async compact(): Promise<void> {
    const temp = `${this.options.path}.compact`;
    const handle = await open(temp, 'w');
    try {
      const body = [...this.requests.values()].map((r) => JSON.stringify({ v: LOG_FORMAT, request: r }) + '\n').join('');
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, this.options.path);
    this.options.logger.info('approval log compacted', { path: this.options.path, requests: this.requests.size });
  }

  protected override persist(request: ApprovalRequest, decision: boolean): Promise<void> {
    const line = JSON.stringify({ v: LOG_FORMAT, request }) + '\n';
    const write = this.writes.then(async () => {
      if (this.closed || !this.handle) throw new Error('the approval store is closed');
      await this.handle.write(line);
      if (decision) await this.handle.sync();
    });
    // The chain keeps lines in order; one failed write must not stop the next.
    this.writes = write.catch(() => undefined);
    return write;
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    await this.writes;
    this.closed = true;
    await super.close();
    const handle = this.handle;
    this.handle = undefined;
    await handle?.sync().catch(() => undefined);
    await handle?.close();
  }
}
