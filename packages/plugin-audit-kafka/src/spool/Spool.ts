import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '@querygate/core';
import type { FsyncPolicy } from '../KafkaAuditOptions';

/** A place in the spool: byte offset within a numbered segment file. */
export interface SpoolPosition {
  readonly segment: number;
  readonly offset: number;
}

/** Events read from the spool, in append order, and where the next read starts. */
export interface SpoolBatch {
  readonly events: readonly AuditEvent[];
  readonly end: SpoolPosition;
  /** Spool bytes the batch covers (including any skipped lines). */
  readonly bytes: number;
  /** Lines that did not parse (a torn write left by a crash); skipped, counted, never sent. */
  readonly skipped: number;
}

export interface SpoolOptions {
  readonly dir: string;
  readonly fsync: FsyncPolicy;
  readonly fsyncIntervalMs: number;
  readonly segmentBytes: number;
}

const SEGMENT = /^(\d{20})\.jsonl$/;
const COMMITTED = 'committed.json';
const READ_CHUNK = 256 * 1024;

function segmentName(n: number): string {
  return `${String(n).padStart(20, '0')}.jsonl`;
}

/**
 * Append-only write-ahead log of audit events: JSON lines in numbered segment files, plus
 * `committed.json`, the position up to which events reached Kafka. Everything after it is undelivered.
 *
 * Appends are positional writes at the size the spool itself tracks, so a failed (partial) write is
 * truncated away and never leaves half a line in front of the next one. Readers only see bytes up to
 * that size, so they never read a line that is still being written.
 */
export class Spool {
  private writer: fs.FileHandle | undefined;
  private writerSegment: number;
  private writerSize: number;
  /** Set when a failed write could not be truncated away: the next append starts a new segment. */
  private writerBroken = false;
  private readonly segments: number[];
  private committed: SpoolPosition;
  private pendingEvents: number;
  private pendingBytes: number;
  private appendChain: Promise<void> = Promise.resolve();
  private syncTimer: NodeJS.Timeout | undefined;
  private unsynced = false;
  private reader: { segment: number; handle: fs.FileHandle } | undefined;
  private closed = false;
  private readonly appendListeners = new Set<() => void>();
  corrupt = 0;

  private constructor(
    private readonly options: SpoolOptions,
    segments: number[],
    committed: SpoolPosition,
    pending: { events: number; bytes: number },
    writerSegment: number,
    writerSize: number,
  ) {
    this.segments = segments;
    this.committed = committed;
    this.pendingEvents = pending.events;
    this.pendingBytes = pending.bytes;
    this.writerSegment = writerSegment;
    this.writerSize = writerSize;
  }

  /** Opens (creating) the spool directory and recovers its state; throws when the directory is unusable. */
  static async open(options: SpoolOptions): Promise<Spool> {
    await fs.mkdir(options.dir, { recursive: true });
    const names = await fs.readdir(options.dir);
    const segments = names.flatMap((n) => {
      const m = SEGMENT.exec(n);
      return m ? [Number(m[1])] : [];
    }).sort((a, b) => a - b);

    let committed = (await readCommitted(options.dir)) ?? { segment: segments[0] ?? 1, offset: 0 };
    // Segments wholly before the committed position were delivered; a crash came before their delete.
    while (segments.length > 0 && segments[0]! < committed.segment) {
      await fs.rm(join(options.dir, segmentName(segments.shift()!)), { force: true });
    }
    if (segments[0] !== committed.segment) {
      // The committed segment's file is gone (removed by hand): resume at the next one, or a new one.
      committed = { segment: segments[0] ?? committed.segment + 1, offset: 0 };
    }
    if (segments.length === 0) segments.push(committed.segment);

    const writerSegment = segments[segments.length - 1]!;
    const writerSize = await repairTail(join(options.dir, segmentName(writerSegment)));
    if (committed.segment === writerSegment && committed.offset > writerSize) committed = { segment: writerSegment, offset: writerSize };
    const pending = await countPending(options.dir, segments, committed);
    return new Spool(options, segments, committed, pending, writerSegment, writerSize);
  }

  get dir(): string { return this.options.dir; }
  /** Events appended but not yet committed as delivered. */
  get depth(): { readonly events: number; readonly bytes: number; readonly segments: number } {
    return { events: this.pendingEvents, bytes: this.pendingBytes, segments: this.segments.length };
  }
  get position(): SpoolPosition { return this.committed; }

  /** Calls `listener` after every successful append; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  /**
   * Appends events in order. Resolves once they are written (and fsynced under `always`); rejects
   * with the file system's error, leaving the spool as it was before the call.
   */
  append(events: readonly AuditEvent[]): Promise<void> {
    const run = this.appendChain.then(() => this.appendNow(events));
    this.appendChain = run.catch(() => undefined);
    return run;
  }

  private async appendNow(events: readonly AuditEvent[]): Promise<void> {
    if (this.closed) throw new Error('spool is closed');
    if (events.length === 0) return;
    let text = '';
    for (const event of events) text += JSON.stringify(event) + '\n';
    const data = Buffer.from(text, 'utf8');

    if (this.writerBroken || (this.writerSize > 0 && this.writerSize + data.length > this.options.segmentBytes)) {
      await this.roll();
    }
    const handle = await this.openWriter();
    const at = this.writerSize;
    try {
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await handle.write(data, written, data.length - written, at + written);
        written += bytesWritten;
      }
      if (this.options.fsync === 'always') await handle.datasync();
    } catch (err) {
      await handle.truncate(at).catch(() => { this.writerBroken = true; });
      throw err;
    }
    this.writerSize = at + data.length;
    this.pendingEvents += events.length;
    this.pendingBytes += data.length;
    if (this.options.fsync === 'batch') this.scheduleSync();
    for (const listener of this.appendListeners) listener();
  }

  private async openWriter(): Promise<fs.FileHandle> {
    if (this.writer === undefined) {
      const path = join(this.options.dir, segmentName(this.writerSegment));
      // 'a' would ignore positions on Linux; 'r+' needs the file, so create it first.
      const created = await fs.open(path, 'wx').then((h) => h.close().then(() => true), (err: NodeJS.ErrnoException) => {
        if (err.code === 'EEXIST') return false;
        throw err;
      });
      this.writer = await fs.open(path, 'r+');
      if (created && this.options.fsync === 'always') await syncDir(this.options.dir);
    }
    return this.writer;
  }

  private async roll(): Promise<void> {
    const old = this.writer;
    this.writer = undefined;
    if (old !== undefined) {
      if (this.options.fsync !== 'never') await old.sync().catch(() => undefined);
      await old.close().catch(() => undefined);
    }
    this.writerSegment += 1;
    this.writerSize = 0;
    this.writerBroken = false;
    this.segments.push(this.writerSegment);
  }

  private scheduleSync(): void {
    this.unsynced = true;
    if (this.syncTimer !== undefined) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      void this.sync();
    }, this.options.fsyncIntervalMs);
    this.syncTimer.unref();
  }

  /** fsyncs what was appended so far (a no-op under `always`, where every append already was). */
  async sync(): Promise<void> {
    await this.appendChain;
    if (!this.unsynced || this.writer === undefined) return;
    this.unsynced = false;
    await this.writer.datasync().catch(() => { this.unsynced = true; });
  }

  /**
   * Reads up to `maxEvents` events from `from` (normally the committed position), stopping before
   * `maxBytes` of spool data (always at least one event).
   */
  async read(from: SpoolPosition, maxEvents: number, maxBytes = Number.POSITIVE_INFINITY): Promise<SpoolBatch> {
    const events: AuditEvent[] = [];
    let skipped = 0;
    let bytes = 0;
    let pos = from;
    while (events.length < maxEvents && bytes < maxBytes) {
      const limit = pos.segment === this.writerSegment ? this.writerSize : Number.POSITIVE_INFINITY;
      const chunk = await this.readChunk(pos, limit);
      if (chunk.length === 0) {
        // End of a segment: hop to the next one if there is a later segment, else nothing more yet.
        const next = this.segments.find((s) => s > pos.segment);
        if (next === undefined) break;
        pos = { segment: next, offset: 0 };
        continue;
      }
      let start = 0;
      for (;;) {
        if (events.length >= maxEvents) break;
        const nl = chunk.indexOf(0x0a, start);
        if (nl < 0) break;
        if (events.length > 0 && bytes + nl + 1 - start > maxBytes) {
          maxEvents = events.length;
          break;
        }
        const line = chunk.subarray(start, nl);
        const event = parseLine(line);
        if (event === undefined) {
          skipped++;
          this.corrupt++;
        } else {
          events.push(event);
        }
        bytes += nl + 1 - start;
        start = nl + 1;
      }
      if (start === 0) {
        // No complete line in the chunk: a torn tail of an older segment (a crash mid-write). Skip it.
        if (limit === Number.POSITIVE_INFINITY && chunk.length < READ_CHUNK) {
          bytes += chunk.length;
          skipped++;
          this.corrupt++;
          pos = { segment: pos.segment, offset: pos.offset + chunk.length };
          continue;
        }
        if (chunk.length >= READ_CHUNK) {
          // One line longer than a chunk: read it whole.
          const whole = await this.readLongLine(pos, limit);
          if (!whole.complete && limit !== Number.POSITIVE_INFINITY) break;
          const event = whole.complete ? parseLine(whole.data.subarray(0, whole.data.length - 1)) : undefined;
          if (event === undefined) { skipped++; this.corrupt++; } else events.push(event);
          bytes += whole.data.length;
          pos = { segment: pos.segment, offset: pos.offset + whole.data.length };
          continue;
        }
        break;
      }
      pos = { segment: pos.segment, offset: pos.offset + start };
    }
    return { events, end: pos, bytes, skipped };
  }

  private async readerFor(segment: number): Promise<fs.FileHandle | undefined> {
    if (this.reader?.segment === segment) return this.reader.handle;
    if (this.reader !== undefined) {
      await this.reader.handle.close().catch(() => undefined);
      this.reader = undefined;
    }
    try {
      const handle = await fs.open(join(this.options.dir, segmentName(segment)), 'r');
      this.reader = { segment, handle };
      return handle;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private async readChunk(pos: SpoolPosition, limit: number): Promise<Buffer> {
    const size = Math.min(READ_CHUNK, limit - pos.offset);
    if (size <= 0) return Buffer.alloc(0);
    const handle = await this.readerFor(pos.segment);
    if (handle === undefined) return Buffer.alloc(0);
    const buffer = Buffer.allocUnsafe(size);
    const { bytesRead } = await handle.read(buffer, 0, size, pos.offset);
    return buffer.subarray(0, bytesRead);
  }

  /** One line that does not fit a chunk; `complete` is false when the data ends before its newline. */
  private async readLongLine(pos: SpoolPosition, limit: number): Promise<{ data: Buffer; complete: boolean }> {
    const parts: Buffer[] = [];
    let offset = pos.offset;
    for (;;) {
      const chunk = await this.readChunk({ segment: pos.segment, offset }, limit);
      if (chunk.length === 0) return { data: Buffer.concat(parts), complete: false };
      const nl = chunk.indexOf(0x0a);
      if (nl >= 0) {
        parts.push(chunk.subarray(0, nl + 1));
        return { data: Buffer.concat(parts), complete: true };
      }
      parts.push(chunk);
      offset += chunk.length;
    }
  }

  /**
   * Records that everything before `end` reached Kafka, then deletes segments wholly before it.
   * The in-memory position moves even when persisting it fails, so this process never resends;
   * only a restart after such a failure can (at-least-once).
   */
  async commit(batch: SpoolBatch): Promise<void> {
    if (this.closed) return;
    this.committed = batch.end;
    this.pendingEvents = Math.max(0, this.pendingEvents - batch.events.length - batch.skipped);
    this.pendingBytes = Math.max(0, this.pendingBytes - batch.bytes);
    const tmp = join(this.options.dir, `${COMMITTED}.tmp`);
    const text = `${JSON.stringify(batch.end)}\n`;
    if (this.options.fsync === 'always') {
      const handle = await fs.open(tmp, 'w');
      try {
        await handle.writeFile(text);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } else {
      await fs.writeFile(tmp, text);
    }
    await fs.rename(tmp, join(this.options.dir, COMMITTED));
    while (this.segments.length > 1 && this.segments[0]! < batch.end.segment) {
      const gone = this.segments.shift()!;
      if (this.reader?.segment === gone) {
        await this.reader.handle.close().catch(() => undefined);
        this.reader = undefined;
      }
      await fs.rm(join(this.options.dir, segmentName(gone)), { force: true });
    }
  }

  /** Waits for appends in progress, fsyncs and closes the files. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.appendChain;
    this.closed = true;
    if (this.syncTimer !== undefined) clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    if (this.writer !== undefined) {
      if (this.options.fsync !== 'never') await this.writer.sync().catch(() => undefined);
      await this.writer.close().catch(() => undefined);
      this.writer = undefined;
    }
    if (this.reader !== undefined) {
      await this.reader.handle.close().catch(() => undefined);
      this.reader = undefined;
    }
    this.appendListeners.clear();
  }
}

function parseLine(line: Buffer): AuditEvent | undefined {
  try {
    const value: unknown = JSON.parse(line.toString('utf8'));
    if (typeof value !== 'object' || value === null || typeof (value as AuditEvent).sessionId !== 'string') return undefined;
    return value as AuditEvent;
  } catch {
    return undefined;
  }
}

async function readCommitted(dir: string): Promise<SpoolPosition | undefined> {
  try {
    const value = JSON.parse(await fs.readFile(join(dir, COMMITTED), 'utf8')) as Partial<SpoolPosition>;
    if (Number.isSafeInteger(value.segment) && Number.isSafeInteger(value.offset)) {
      return { segment: value.segment!, offset: value.offset! };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
  }
  return undefined;
}

/** Cuts a half-written last line (a crash mid-append: never reported ok) so appends continue cleanly. */
async function repairTail(path: string): Promise<number> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    let end = size;
    const buffer = Buffer.alloc(64 * 1024);
    while (end > 0) {
      const start = Math.max(0, end - buffer.length);
      const { bytesRead } = await handle.read(buffer, 0, end - start, start);
      const nl = buffer.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) {
        end = start + nl + 1;
        break;
      }
      end = start;
    }
    if (end !== size) await handle.truncate(end);
    return end;
  } finally {
    await handle.close();
  }
}

async function countPending(dir: string, segments: readonly number[], from: SpoolPosition): Promise<{ events: number; bytes: number }> {
  let events = 0;
  let bytes = 0;
  for (const segment of segments) {
    if (segment < from.segment) continue;
    let data: Buffer;
    try {
      data = await fs.readFile(join(dir, segmentName(segment)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const start = segment === from.segment ? Math.min(from.offset, data.length) : 0;
    bytes += data.length - start;
    for (let i = data.indexOf(0x0a, start); i >= 0; i = data.indexOf(0x0a, i + 1)) events++;
  }
  return { events, bytes };
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
