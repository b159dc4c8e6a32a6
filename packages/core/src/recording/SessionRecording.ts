import { createWriteStream, type WriteStream } from 'node:fs';
import type { Logger } from '../Logger';
import type { RowObserver } from '../ResultSet';
import type { Session } from '../Session';
import type { Statement } from '../Statement';
import { sealRecord } from './chain';
import {
  GENESIS_HASH, RECORDING_FORMAT,
  type CompleteRecord, type EndRecord, type EventRecord, type StatementRecord, type StatementTextMode, type UnchainedRecord,
} from './records';

const FLUSH_INTERVAL_MS = 50;
const FLUSH_AT_RECORDS = 512;

export interface SessionRecordingOptions {
  readonly file: string;
  readonly gatewayId: string;
  readonly statementText: StatementTextMode;
  readonly maxRowsPerResult: number;
  readonly logger: Logger;
  /** Records kept in memory while the disk is slower than the session; beyond it they are dropped and counted. */
  readonly maxPending?: number;
  readonly onBytes?: (bytes: number) => void;
  readonly onError?: () => void;
  readonly onClose?: (recording: SessionRecording) => void;
}

interface OpenResult {
  readonly n: number;
  readonly t: number;
  readonly columns: readonly string[];
  readonly rows: (readonly (string | null)[])[];
  readonly plan: string | undefined;
  readonly masked: readonly number[] | undefined;
}

const DEFAULT_MAX_PENDING = 10_000;

/**
 * One session's recording: an append-only JSON-lines file with a hash chain. Records are queued in
 * memory on the statement path and serialised, hashed and written once per event-loop turn through
 * one write stream, so recording never waits on the disk.
 */
export class SessionRecording {
  private pending: UnchainedRecord[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private prev = GENESIS_HASH;
  private readonly stream: WriteStream;
  private readonly startedAt: number;
  private statements = 0;
  private openResult: OpenResult | undefined;
  private failed = false;
  private closed = false;
  private dropped = 0;
  private closing: Promise<void> | undefined;

  constructor(readonly session: Session, private readonly options: SessionRecordingOptions) {
    this.startedAt = session.startedAt.getTime();
    // 'wx': a recording is never appended to or overwritten by another session.
    this.stream = createWriteStream(options.file, { flags: 'wx', mode: 0o600 });
    this.stream.on('error', (err) => this.fail(err));
    const { subject, groups, method, issuer } = session.identity;
    this.push({
      type: 'session',
      t: 0,
      format: RECORDING_FORMAT,
      sessionId: session.id,
      gateway: options.gatewayId,
      startedAt: session.startedAt.toISOString(),
      protocol: session.protocol,
      listener: session.listener,
      database: session.database,
      clientAddress: session.clientAddress,
      tls: session.tls,
      identity: issuer === undefined ? { subject, groups: [...groups], method } : { subject, groups: [...groups], method, issuer },
      clientParameters: { ...session.clientParameters },
      statementText: options.statementText,
      maxRowsPerResult: options.maxRowsPerResult,
    });
  }

  get file(): string { return this.options.file; }
  get maxRowsPerResult(): number { return this.options.maxRowsPerResult; }
  get isClosed(): boolean { return this.closed; }

  private now(): number { return Date.now() - this.startedAt; }

  /** Records a statement about to be judged; returns its number in this session. */
  statement(statement: Statement, via: StatementRecord['via'], parameters?: readonly (string | null)[], parent?: number): number {
    const n = ++this.statements;
    const raw = this.options.statementText === 'raw';
    const record: UnchainedRecord = {
      type: 'statement',
      t: this.now(),
      n,
      text: raw ? statement.text : statement.normalized,
      kind: statement.kind,
      command: statement.command,
      fingerprint: statement.fingerprint,
      via,
      ...(raw && parameters ? { parameters: [...parameters] } : {}),
      ...(parent !== undefined ? { parent } : {}),
    };
    this.push(record);
    return n;
  }

  verdict(n: number, verdict: 'allow' | 'deny' | 'hold', rule?: string, error?: { readonly code: string; readonly message: string }, notice?: string): void {
    this.push({
      type: 'verdict', t: this.now(), n, verdict,
      ...(rule ? { rule } : {}),
      ...(error ? { error: { code: error.code, message: error.message } } : {}),
      ...(notice ? { notice } : {}),
    });
  }

  /**
   * Opens a result set; returns the observer the adapter feeds the client's (masked) rows to, or
   * undefined when no rows are recorded. The result is written when the statement completes,
   * the next result starts, or the session ends.
   */
  result(n: number, columns: readonly string[], plan?: string, masked?: readonly number[]): RowObserver | undefined {
    this.closeResult();
    const open: OpenResult = { n, t: this.now(), columns: [...columns], rows: [], plan, masked };
    this.openResult = open;
    const limit = this.options.maxRowsPerResult;
    if (limit <= 0) return undefined;
    return (row) => {
      // Copied: adapters may reuse the array for the next row.
      if (open.rows.length < limit) open.rows.push(row.slice());
    };
  }

  private closeResult(rows?: number): void {
    const open = this.openResult;
    if (!open) return;
    this.openResult = undefined;
    // Without a row count (the statement has not completed) a full buffer may or may not be all.
    const truncated = rows !== undefined ? rows > open.rows.length : false;
    this.push({
      type: 'result', t: open.t, n: open.n, columns: open.columns, rows: open.rows,
      ...(truncated ? { truncated: true } : {}),
      ...(open.plan ? { plan: open.plan } : {}),
      ...(open.masked && open.masked.length > 0 ? { masked: open.masked } : {}),
    });
  }

  complete(n: number, completion: Omit<CompleteRecord, 'type' | 't' | 'n' | 'seq' | 'prev'>): void {
    if (this.openResult?.n === n) this.closeResult(completion.rows);
    else this.closeResult();
    this.push({
      type: 'complete', t: this.now(), n,
      ...(completion.rows !== undefined ? { rows: completion.rows } : {}),
      // Adapters time with performance.now(): microseconds are plenty.
      durationMs: Math.round(completion.durationMs * 1000) / 1000,
      ...(completion.error ? { error: { code: completion.error.code, message: completion.error.message } } : {}),
      ...(completion.masked && completion.masked.values > 0 ? { masked: completion.masked } : {}),
    });
  }

  event(kind: EventRecord['kind'], message: string, code?: string, n?: number): void {
    this.push({
      type: 'event', t: this.now(), kind, message,
      ...(code ? { code } : {}),
      ...(n !== undefined ? { n } : {}),
    });
  }

  /** Writes the end record and closes the file. Idempotent. */
  end(summary: Omit<EndRecord, 'type' | 't' | 'seq' | 'prev' | 'dropped'>): Promise<void> {
    if (this.closing) return this.closing;
    this.closeResult();
    this.push({ type: 'end', t: this.now(), ...summary, dropped: this.dropped });
    this.closed = true;
    this.closing = new Promise<void>((resolve) => {
      this.write();
      if (this.failed) { this.stream.destroy(); resolve(); return; }
      this.stream.end(() => resolve());
      this.stream.once('error', () => resolve());
    }).finally(() => this.options.onClose?.(this));
    return this.closing;
  }

  private push(record: UnchainedRecord): void {
    if (this.closed || this.failed) return;
    if (this.pending.length >= (this.options.maxPending ?? DEFAULT_MAX_PENDING) && record.type !== 'end') {
      this.dropped++;
      return;
    }
    this.pending.push(record);
    // One write per session every FLUSH_INTERVAL_MS rather than per event-loop turn: each write is
    // a thread-pool round trip, and per-turn writes measured 45-75 µs per pgbench transaction.
    // A large backlog is written at once so memory stays bounded.
    if (this.pending.length >= FLUSH_AT_RECORDS) {
      this.write();
    } else if (!this.scheduled) {
      this.scheduled = true;
      this.timer = setTimeout(() => this.write(), FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  private write(): void {
    this.scheduled = false;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.pending.length === 0 || this.failed) return;
    const batch = this.pending;
    this.pending = [];
    let text = '';
    for (const record of batch) {
      const sealed = sealRecord(this.prev, this.seq++, record);
      this.prev = sealed.hash;
      text += sealed.line;
    }
    this.stream.write(text);
    this.options.onBytes?.(Buffer.byteLength(text));
  }

  /** Hash of the last line written so far (the chain's head). */
  get head(): string { return this.prev; }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.pending = [];
    this.options.onError?.();
    this.options.logger.error('recording failed; this session is no longer recorded', { sessionId: this.session.id, file: this.options.file, error: err.message });
  }
}
