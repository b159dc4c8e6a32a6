// Test helpers: audit events that look like the gateway's, and a kafkajs reader for what the sink wrote.
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { AUDIT_SCHEMA_VERSION, type AuditEvent, type AuditEventType } from '@querygate/core';

const TYPES: readonly AuditEventType[] = [
  'statement.allowed', 'statement.completed', 'masking.applied', 'statement.denied', 'statement.held',
];

/** Event `seq` of session `sessionId`: seq 1 starts the session, the rest are statements. */
export function auditEvent(sessionId: string, seq: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  const event: AuditEventType = seq === 1 ? 'session.started' : TYPES[seq % TYPES.length]!;
  return {
    schemaVersion: AUDIT_SCHEMA_VERSION,
    event,
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, 0, seq)).toISOString(),
    id: `${sessionId}:${seq}`,
    sessionId,
    seq,
    gateway: 'gw-test',
    listener: 'pg',
    protocol: 'postgres',
    database: 'app',
    clientAddress: '127.0.0.1:50000',
    identity: { subject: 'alice', groups: ['dba'], method: 'local' },
    ...(event.startsWith('statement.') ? {
      statement: { text: 'SELECT * FROM users WHERE id = $1', kind: 'select', command: 'select', objects: ['public.users'], risks: [] },
      fingerprint: 'f00d',
      verdict: event === 'statement.denied' ? 'deny' : event === 'statement.held' ? 'hold' : 'allow',
    } : {}),
    ...(event === 'statement.completed' ? { rows: seq, durationMs: 3 } : {}),
    ...(event === 'masking.applied' ? { masking: { columns: ['public.users.email'], values: 2 } } : {}),
    ...overrides,
  } as AuditEvent;
}

export function quietKafka(brokers: readonly string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 10_000,
    retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/**
 * Creates a topic and waits until every partition has a leader. kafkajs' own `waitForLeaders` gives up
 * with UNKNOWN_TOPIC_OR_PARTITION when the broker is slow to publish metadata (a loaded CI machine).
 */
export async function createTopic(
  kafka: Kafka, topic: string, numPartitions = 3, configEntries: { name: string; value: string }[] = [],
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1, configEntries }], waitForLeaders: false });
    const until = Date.now() + 30_000;
    for (;;) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = topics[0]?.partitions ?? [];
        if (partitions.length === numPartitions && partitions.every((p) => p.leader >= 0)) return;
      } catch (err) {
        if (Date.now() > until) throw err;
      }
      if (Date.now() > until) throw new Error(`topic ${topic} has no leaders after 30 s`);
      await sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
}

/** How many records the topic holds (sum over partitions of high - low watermark): exact, no waiting. */
export async function recordCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * The record count once it reached `atLeast` (a fresh client's metadata can briefly miss a new topic's
 * partition on a loaded machine, which undercounts), read again a moment later. A count above
 * `atLeast` is returned as it is: it means duplicates.
 */
export async function settledRecordCount(kafka: Kafka, topic: string, atLeast: number, timeoutMs = 15_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  let count = await recordCount(kafka, topic);
  while (count < atLeast && Date.now() < until) {
    await sleep(200);
    count = await recordCount(kafka, topic);
  }
  await sleep(300);
  return Math.max(count, await recordCount(kafka, topic));
}

/** Reads `expected` records of `topic` from the beginning (default: as many as the watermarks say). */
export async function readTopic(kafka: Kafka, topic: string, expected?: number, timeoutMs = 30_000): Promise<KafkaMessage[]> {
  expected ??= await recordCount(kafka, topic);
  const got: KafkaMessage[] = [];
  if (expected === 0) return got;
  const consumer = kafka.consumer({ groupId: `test-${topic}-${Date.now()}-${Math.random()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${got.length}/${expected} records of ${topic} in ${timeoutMs} ms`)), timeoutMs);
      consumer.run({
        eachMessage: async ({ message }) => {
          got.push(message);
          if (got.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      }).catch((e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/** Per session, the seq numbers in the order the topic holds them (one key = one partition = one order). */
export function seqsBySession(messages: readonly KafkaMessage[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of messages) {
    const event = JSON.parse(m.value!.toString('utf8')) as AuditEvent;
    expect(m.key?.toString('utf8')).toBe(event.sessionId);
    const list = out.get(event.sessionId) ?? [];
    list.push(event.seq);
    out.set(event.sessionId, list);
  }
  return out;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
