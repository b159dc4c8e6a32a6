import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { SchemaValidator } from './SchemaValidator';
import { SessionOrder, type SessionReport } from './SessionOrder';

export interface SiemConsumerOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  /** Consumer group; default a fresh one per run, so every run reads the whole topic. */
  readonly groupId?: string;
  /** `end`: stop once the records present at start are read. `follow`: run until stop() is called. */
  readonly mode?: 'end' | 'follow';
  readonly schemaPath?: string;
  /** Called with each finding (invalid event, gap, step back, duplicate) as it is found. */
  readonly onFinding?: (finding: string) => void;
  readonly timeoutMs?: number;
}

export interface SiemSummary {
  readonly records: number;
  readonly valid: number;
  readonly invalid: number;
  readonly formats: Readonly<Record<string, number>>;
  readonly byType: Readonly<Record<string, number>>;
  readonly sessions: number;
  readonly gaps: number;
  readonly outOfOrder: number;
  readonly duplicates: number;
  /** The first findings, for the report. */
  readonly findings: readonly string[];
  readonly perSession: ReadonlyMap<string, SessionReport>;
}

const MAX_FINDINGS = 50;

/** The fields an OCSF record from querygate must have (base event attributes and our metadata). */
function ocsfProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['$: expected object'];
  const r = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ['activity_id', 'category_uid', 'class_uid', 'severity_id', 'time', 'type_uid', 'status_id']) {
    if (typeof r[key] !== 'number') problems.push(`$.${key}: expected number`);
  }
  if (problems.length === 0 && r.type_uid !== (r.class_uid as number) * 100 + (r.activity_id as number)) {
    problems.push('$.type_uid: must be class_uid * 100 + activity_id');
  }
  if (r.class_uid !== 3002 && r.class_uid !== 6005) problems.push(`$.class_uid: unexpected ${String(r.class_uid)}`);
  const m = r.metadata as Record<string, unknown> | undefined;
  if (typeof m !== 'object' || m === null) return [...problems, '$.metadata: expected object'];
  if (typeof m.version !== 'string') problems.push('$.metadata.version: expected string');
  if (typeof m.uid !== 'string' || typeof m.correlation_uid !== 'string' || typeof m.sequence !== 'number') {
    problems.push('$.metadata: uid, correlation_uid and sequence are required');
  }
  if ((m.product as { name?: unknown } | undefined)?.name !== 'querygate') problems.push('$.metadata.product.name: expected "querygate"');
  return problems;
}

/**
 * Reads querygate's audit topic like a SIEM would: validates each record (native events against
 * docs/audit-event.schema.json, OCSF records against the base attributes) and checks every session's
 * sequence for order, gaps and duplicates.
 */
export class SiemConsumer {
  private readonly validator: SchemaValidator;
  private readonly order = new SessionOrder();
  private records = 0;
  private valid = 0;
  private invalid = 0;
  private readonly formats: Record<string, number> = {};
  private readonly byType: Record<string, number> = {};
  private readonly findings: string[] = [];
  private stopRequested: (() => void) | undefined;

  constructor(private readonly options: SiemConsumerOptions) {
    this.validator = SchemaValidator.fromFile(options.schemaPath);
  }

  /** Checks one record; exposed for tests and for consumers wired to another Kafka client. */
  check(message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>): void {
    this.records++;
    const header = (name: string): string | undefined => {
      const v = message.headers?.[name];
      return v === undefined ? undefined : Array.isArray(v) ? v[0]?.toString() : v.toString();
    };
    let value: unknown;
    try {
      value = JSON.parse(message.value?.toString('utf8') ?? '');
    } catch {
      this.finding(`record ${this.records}: value is not JSON`);
      this.invalid++;
      return;
    }
    const format = header('querygate-format') ?? (typeof (value as { class_uid?: unknown }).class_uid === 'number' ? 'ocsf' : 'native');
    this.formats[format] = (this.formats[format] ?? 0) + 1;
    const problems = format === 'ocsf' ? ocsfProblems(value) : this.validator.validate(value);
    const key = message.key?.toString('utf8');
    let sessionId: string | undefined;
    let seq: number | undefined;
    let id: string | undefined;
    let type: string | undefined;
    if (format === 'ocsf') {
      const m = (value as { metadata?: { correlation_uid?: string; sequence?: number; uid?: string } }).metadata;
      sessionId = m?.correlation_uid;
      seq = m?.sequence;
      id = m?.uid;
      type = (value as { unmapped?: { event?: string } }).unmapped?.event;
    } else {
      const e = value as { sessionId?: string; seq?: number; id?: string; event?: string; schemaVersion?: number };
      ({ sessionId, seq, id } = e);
      type = e.event;
      if (header('querygate-schema-version') !== undefined && header('querygate-schema-version') !== String(e.schemaVersion)) {
        problems.push('header querygate-schema-version differs from schemaVersion');
      }
    }
    if (header('querygate-event-type') !== undefined && header('querygate-event-type') !== type) {
      problems.push('header querygate-event-type differs from the event');
    }
    if (key !== undefined && sessionId !== undefined && key !== sessionId) problems.push(`key ${key} is not the session id`);
    if (problems.length > 0) {
      this.invalid++;
      this.finding(`record ${this.records} (${id ?? 'no id'}): ${problems.join('; ')}`);
      return;
    }
    this.valid++;
    if (type !== undefined) this.byType[type] = (this.byType[type] ?? 0) + 1;
    if (sessionId !== undefined && seq !== undefined && id !== undefined) {
      const found = this.order.add(sessionId, seq, id);
      if (found !== undefined) this.finding(found);
    }
  }

  private finding(text: string): void {
    this.options.onFinding?.(text);
    if (this.findings.length < MAX_FINDINGS) this.findings.push(text);
  }

  summary(): SiemSummary {
    const perSession = this.order.report();
    let gaps = 0;
    let outOfOrder = 0;
    let duplicates = 0;
    for (const s of perSession.values()) {
      gaps += s.gaps.length;
      outOfOrder += s.outOfOrder;
      duplicates += s.duplicates;
    }
    return {
      records: this.records, valid: this.valid, invalid: this.invalid, formats: { ...this.formats }, byType: { ...this.byType },
      sessions: perSession.size, gaps, outOfOrder, duplicates, findings: [...this.findings], perSession,
    };
  }

  /** Consumes the topic from the beginning; resolves with the summary when done (see `mode`). */
  async run(): Promise<SiemSummary> {
    const kafka = new Kafka({
      clientId: 'querygate-siem-consumer',
      brokers: [...this.options.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    const end = this.options.mode === 'follow' ? undefined : await endOffsets(kafka, this.options.topic);
    if (end !== undefined && end.size === 0) return this.summary();
    const consumer = kafka.consumer({
      groupId: this.options.groupId ?? `querygate-siem-${Date.now()}-${process.pid}`,
      maxWaitTimeInMs: 250,
    });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        this.stopRequested = resolve;
        const timer = this.options.timeoutMs === undefined ? undefined : setTimeout(
          () => reject(new Error(`read ${this.records} records of ${this.options.topic} in ${this.options.timeoutMs} ms`)),
          this.options.timeoutMs,
        );
        const done = (): void => { if (timer !== undefined) clearTimeout(timer); resolve(); };
        const reached = new Map<number, bigint>();
        let target = end;
        consumer.run({
          eachMessage: async ({ partition, message }) => {
            this.check(message);
            if (target === undefined) return;
            reached.set(partition, BigInt(message.offset) + 1n);
            if ([...target].every(([p, high]) => (reached.get(p) ?? 0n) >= high)) {
              // Look once more: a client's first metadata of a new topic can miss a partition.
              const again = await endOffsets(kafka, this.options.topic);
              if ([...again].every(([p, high]) => (reached.get(p) ?? 0n) >= high)) done();
              else target = again;
            }
          },
        }).catch((err: unknown) => {
          if (timer !== undefined) clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
      });
    } finally {
      this.stopRequested = undefined;
      await consumer.disconnect();
    }
    return this.summary();
  }

  /** Ends a `follow` run; run() then resolves with the summary. */
  stop(): void {
    this.stopRequested?.();
  }
}

/** Per partition, the offset just past the last record now in the topic (partitions with records only). */
async function endOffsets(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.filter((p) => BigInt(p.high) > BigInt(p.low)).map((p) => [p.partition, BigInt(p.high)]));
  } finally {
    await admin.disconnect();
  }
}
