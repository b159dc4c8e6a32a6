import { CompressionTypes, Kafka, Partitioners, type Producer } from 'kafkajs';
import type { AuditEvent, AuditSink, ExportResult, Logger } from '@querygate/core';
import type { KafkaAuditOptions } from './KafkaAuditOptions';
import { kafkaClientConfig } from './kafkaClientConfig';
import { MAX_VALUE_BYTES, toKafkaRecord } from './KafkaRecord';
import { Spool, type SpoolBatch } from './spool/Spool';

/** What `status()` reports, for metrics and the admin API. */
export interface KafkaAuditStatus {
  /** Events in the spool not yet acknowledged by Kafka. */
  readonly spooledEvents: number;
  readonly spooledBytes: number;
  readonly spoolSegments: number;
  /** Events Kafka acknowledged since this sink started. */
  readonly delivered: number;
  /** Kafka answered the last send (false while the broker is unreachable). */
  readonly connected: boolean;
  /** The spool can be written (false: exports fail; strict mode refuses statements). */
  readonly spoolWritable: boolean;
  /** Spool lines that did not parse (left by a crash mid-write) and were skipped. */
  readonly corruptLines: number;
  /** Times the idempotent producer had to be replaced (its broker-side state was lost): see docs/audit.md. */
  readonly producerResets: number;
  readonly lastError: { readonly message: string; readonly at: string } | undefined;
}

export interface KafkaAuditSinkDeps {
  readonly logger: Logger;
  /** The spool directory (the plugin passes `<dataDir>/spool` unless `spool.dir` is set). */
  readonly spoolDir: string;
}

type SendOutcome = 'acked' | 'closed' | 'too-large';

const PRODUCER_STATE_ERRORS = new Set([
  'UNKNOWN_PRODUCER_ID', 'OUT_OF_ORDER_SEQUENCE_NUMBER', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING',
]);
/** Spool bytes per produce request: keeps each partition's record batch far below max.message.bytes. */
const MAX_BATCH_SPOOL_BYTES = 256 * 1024;
const SMALL_VALUE_BYTES = 64 * 1024;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2000;

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * The Kafka audit sink. Every exported batch is appended to the local spool first (export reports ok
 * once it is there); one deliverer reads the spool in order and produces to Kafka, one batch at a
 * time, and moves the committed position only after Kafka acknowledged the batch. Since nothing
 * reaches Kafka except through the spool, a later event can never overtake an earlier one, whether
 * the broker is up, down or coming back.
 *
 * A failed send is retried with exactly the same records by the same idempotent producer, so the
 * broker discards a copy it already wrote: an outage does not duplicate events.
 */
export class KafkaAuditSink implements AuditSink {
  readonly name: string;
  private spool: Spool | undefined;
  private opening: Promise<Spool> | undefined;
  private exportChain: Promise<unknown> = Promise.resolve();
  private readonly kafka: Kafka;
  private producer: Producer;
  private producerResets = 0;
  /** Lowered after the broker refused a batch as too large; back to batchSize after a success. */
  private batchLimit: number;
  private producerConnected = false;
  private tooLargeOnce = false;
  private connected = false;
  private delivered = 0;
  private lastError: { message: string; at: string } | undefined;
  private spoolWritable = true;
  private started = false;
  private stopping = false;
  private closed = false;
  private shutdownPromise: Promise<void> | undefined;
  private loop: Promise<void> = Promise.resolve();
  private wakeDeliverer: (() => void) | undefined;
  private readonly drainWaiters = new Set<() => void>();
  private readonly closeWaiters = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly logger: Logger;

  constructor(private readonly options: KafkaAuditOptions, private readonly deps: KafkaAuditSinkDeps) {
    this.name = `kafka:${options.topic}`;
    this.batchLimit = options.batchSize;
    this.logger = deps.logger;
    this.kafka = new Kafka(kafkaClientConfig(options, deps.logger));
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      // kafkajs keeps per-partition order for an idempotent producer only with one request in flight.
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      // Bounded here; the deliverer retries the very same batch forever (see sendUntilAcked).
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  }

  /** Opens the spool and starts delivering (including what a previous run left spooled). Never throws. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.openSpool().catch(() => undefined);
    this.loop = this.deliverLoop().catch((err: unknown) => {
      this.logger.error('audit deliverer stopped unexpectedly', { error: asError(err).message });
    });
  }

  private openSpool(): Promise<Spool> {
    if (this.spool !== undefined) return Promise.resolve(this.spool);
    if (this.opening === undefined) {
      const { fsync, fsyncIntervalMs, segmentBytes } = this.options.spool;
      this.opening = Spool.open({ dir: this.deps.spoolDir, fsync, fsyncIntervalMs, segmentBytes }).then(
        (spool) => {
          this.spool = spool;
          spool.onAppend(() => this.wake());
          this.wake();
          return spool;
        },
        (err: unknown) => {
          this.opening = undefined;
          this.recordSpoolFailure(err);
          throw err;
        },
      );
    }
    return this.opening;
  }

  async export(events: readonly AuditEvent[]): Promise<ExportResult> {
    const run = this.exportChain.then(() => this.exportNow(events));
    this.exportChain = run;
    return run;
  }

  private async exportNow(events: readonly AuditEvent[]): Promise<ExportResult> {
    if (this.stopping) return { ok: false, error: new Error(`${this.name}: sink is shut down`) };
    if (!this.started) this.start();
    try {
      const spool = await this.openSpool();
      await spool.append(events);
      if (!this.spoolWritable) {
        this.spoolWritable = true;
        this.logger.info('audit spool writable again', { dir: this.deps.spoolDir });
      }
      return { ok: true };
    } catch (err) {
      return { ok: false, error: this.recordSpoolFailure(err) };
    }
  }

  private recordSpoolFailure(err: unknown): Error {
    const error = new Error(`audit spool ${this.deps.spoolDir} cannot be written: ${asError(err).message}`, { cause: err });
    if (this.spoolWritable) this.logger.error('audit spool cannot be written', { dir: this.deps.spoolDir, error: asError(err).message });
    this.spoolWritable = false;
    this.setError(error);
    return error;
  }

  private setError(err: Error): void {
    this.lastError = { message: err.message, at: new Date().toISOString() };
  }

  /** Everything exported so far is in the spool and fsynced (delivery to Kafka is `drain`'s job). */
  async flush(): Promise<void> {
    await this.exportChain.catch(() => undefined);
    await this.spool?.sync();
  }

  /** Waits until the spool is empty (everything exported so far acknowledged by Kafka); false on timeout. */
  async drain(timeoutMs: number): Promise<boolean> {
    await this.exportChain.catch(() => undefined);
    if (this.isDrained()) return true;
    return new Promise<boolean>((resolve) => {
      const done = (value: boolean): void => {
        this.drainWaiters.delete(check);
        clearTimeout(timer);
        this.timers.delete(timer);
        resolve(value);
      };
      const check = (): void => { if (this.isDrained()) done(true); };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.timers.add(timer);
      this.drainWaiters.add(check);
      this.wake();
    });
  }

  private isDrained(): boolean {
    return this.spool !== undefined && this.spool.depth.events === 0;
  }

  status(): KafkaAuditStatus {
    const depth = this.spool?.depth ?? { events: 0, bytes: 0, segments: 0 };
    return {
      spooledEvents: depth.events,
      spooledBytes: depth.bytes,
      spoolSegments: depth.segments,
      delivered: this.delivered,
      connected: this.connected,
      spoolWritable: this.spoolWritable,
      corruptLines: this.spool?.corrupt ?? 0,
      producerResets: this.producerResets,
      lastError: this.lastError,
    };
  }

  /**
   * Drains to Kafka for up to `shutdownTimeout`, then stops; what is left stays spooled for the next
   * start. Idempotent.
   */
  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.shutdownNow();
    return this.shutdownPromise;
  }

  private async shutdownNow(): Promise<void> {
    await this.exportChain.catch(() => undefined);
    this.stopping = true;
    if (this.started && this.spool !== undefined) {
      const drained = await this.drain(this.options.shutdownTimeoutMs);
      if (!drained) {
        this.logger.warn('audit events left in the spool at shutdown; they are delivered at the next start', {
          events: this.spool.depth.events, dir: this.deps.spoolDir,
        });
      }
    }
    this.closed = true;
    this.wake();
    for (const done of [...this.closeWaiters]) done();
    // A send in flight ends on disconnect (or its own bounded retries); the loop then exits. kafkajs may
    // reconnect inside that send's retry, hence the second disconnect.
    await this.producer.disconnect().catch(() => undefined);
    await this.loop;
    await this.producer.disconnect().catch(() => undefined);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.spool?.close();
  }

  private wake(): void {
    const wake = this.wakeDeliverer;
    this.wakeDeliverer = undefined;
    wake?.();
    for (const check of [...this.drainWaiters]) check();
  }

  /** Sleeps until woken (an append, shutdown) or `ms` passes. */
  private pause(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer !== undefined) {
          clearTimeout(timer);
          this.timers.delete(timer);
        }
        resolve();
      };
      this.wakeDeliverer = done;
      if (ms !== undefined) {
        timer = setTimeout(() => {
          if (this.wakeDeliverer === done) this.wakeDeliverer = undefined;
          done();
        }, ms);
        this.timers.add(timer);
      }
    });
  }

  /** Sleeps `ms`, cut short only by shutdown. */
  private backoff(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.closeWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.timers.add(timer);
      this.closeWaiters.add(done);
    });
  }

  private async deliverLoop(): Promise<void> {
    while (!this.closed) {
      const spool = this.spool;
      if (spool === undefined) {
        // Not open yet (or the directory is unusable): retry now and then.
        await this.openSpool().catch(() => undefined);
        if (this.spool === undefined) await this.pause(1000);
        continue;
      }
      const pending = spool.depth.events;
      if (pending === 0) {
        await this.pause(undefined);
        continue;
      }
      // Linger: let a batch fill up, unless one is already full or the gateway is shutting down.
      if (pending < this.options.batchSize && this.options.lingerMs > 0 && !this.stopping) {
        const until = Date.now() + this.options.lingerMs;
        while (!this.closed && !this.stopping && spool.depth.events < this.options.batchSize && Date.now() < until) {
          await this.pause(until - Date.now());
        }
        if (this.closed) break;
      }
      let batch: SpoolBatch;
      let outcome: SendOutcome = 'acked';
      try {
        batch = await spool.read(spool.position, this.batchLimit, MAX_BATCH_SPOOL_BYTES);
        if (batch.events.length > 0) outcome = await this.sendUntilAcked(batch);
      } catch (err) {
        // A read error (EIO, a file removed under us): report it, wait, try again from the same place.
        this.setError(asError(err));
        this.logger.error('audit spool read failed', { dir: spool.dir, error: asError(err).message });
        await this.backoff(1000);
        continue;
      }
      if (outcome === 'closed') break;
      if (outcome === 'too-large') {
        // Nothing of the batch was written: re-reading fewer events is safe for ordering and duplicates.
        this.batchLimit = Math.max(1, Math.floor(batch.events.length / 2));
        continue;
      }
      this.batchLimit = this.options.batchSize;
      if (batch.events.length === 0 && batch.end.segment === spool.position.segment && batch.end.offset === spool.position.offset) {
        // The counters say something is pending but the files have nothing readable (removed under us).
        this.setError(new Error(`audit spool ${spool.dir}: ${pending} events counted but none readable`));
        await this.pause(1000);
        continue;
      }
      await spool.commit(batch).catch((err: unknown) => {
        this.setError(asError(err));
        this.logger.warn('audit spool commit failed (delivery continues; a restart may resend)', { error: asError(err).message });
      });
      this.delivered += batch.events.length;
      this.wake();
    }
  }

  /**
   * Produces the batch until Kafka acknowledges it (acks = all). Each retry sends the same records
   * through the same idempotent producer, which reuses the batch's sequence numbers: a copy the broker
   * already wrote before a connection broke is recognised and not written twice. False when the
   * sink closed before an ack came.
   */
  private async sendUntilAcked(batch: SpoolBatch): Promise<SendOutcome> {
    // One event alone too large for the broker's limit: send it with its statement text cut further.
    const maxValue = batch.events.length === 1 && this.batchLimit === 1 && this.tooLargeOnce ? SMALL_VALUE_BYTES : MAX_VALUE_BYTES;
    const messages = batch.events.map((e) => toKafkaRecord(e, this.options.format, this.options.vendorName, maxValue));
    const compression = this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        if (!this.producerConnected) {
          await this.producer.connect();
          this.producerConnected = true;
        }
        await this.producer.send({
          topic: this.options.topic,
          messages: messages.map((m) => ({ ...m, headers: { ...m.headers } })),
          acks: -1,
          timeout: this.options.requestTimeoutMs,
          compression,
        });
        if (!this.connected) {
          this.connected = true;
          if (attempt > 0 || this.delivered > 0) this.logger.info('audit delivery to Kafka resumed', { topic: this.options.topic });
        }
        this.tooLargeOnce = false;
        return 'acked';
      } catch (err) {
        if (this.closed) return 'closed';
        const error = asError(err);
        this.setError(error);
        const type = kafkaErrorType(err);
        if (type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') {
          this.logger.warn('Kafka refused an audit batch as too large; sending smaller batches', { events: batch.events.length });
          if (batch.events.length === 1) this.tooLargeOnce = true;
          if (batch.events.length > 1 || maxValue !== SMALL_VALUE_BYTES) return 'too-large';
        }
        if (type !== undefined && PRODUCER_STATE_ERRORS.has(type)) {
          // The broker no longer knows this producer (expired after a very long outage, or fenced).
          // Only a new producer gets on; if the batch had been written before, it is written again:
          // the one case of a duplicate inside a running gateway (consumers dedupe by event id).
          this.logger.warn('Kafka lost the idempotent producer state; continuing with a new producer (may duplicate one batch)', { error: type });
          const old = this.producer;
          this.producer = this.newProducer();
          this.producerConnected = false;
          this.producerResets++;
          await old.disconnect().catch(() => undefined);
        }
        if (this.connected || attempt === 0) {
          this.logger.warn('Kafka send failed; audit events stay in the spool until a send succeeds', {
            topic: this.options.topic, error: error.message, spooled: this.spool?.depth.events,
          });
        }
        this.connected = false;
        if (error.name === 'KafkaJSNonRetriableError' || error.name === 'KafkaJSConnectionError') {
          // A failed connect leaves kafkajs' producer half-open: connect again next time.
          this.producerConnected = false;
        }
        // Not woken by appends: during an outage they come constantly and would turn this into a spin.
        await this.backoff(Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(attempt, 10)));
      }
    }
    return 'closed';
  }
}

/** The protocol error type of a kafkajs error, looking through its retry wrappers. */
function kafkaErrorType(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string') return type;
    e = (e as { cause?: unknown; originalError?: unknown }).cause ?? (e as { originalError?: unknown }).originalError;
  }
  return undefined;
}
