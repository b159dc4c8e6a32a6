import { AUDIT_SCHEMA_VERSION, type AuditEvent } from '@querygate/core';
import type { OutputFormat } from './KafkaAuditOptions';
import { toOcsf } from './ocsf/toOcsf';

/** Header names of every record this plugin produces. */
export const Headers = {
  SchemaVersion: 'querygate-schema-version',
  EventType: 'querygate-event-type',
  EventId: 'querygate-event-id',
  Format: 'querygate-format',
} as const;

/** One Kafka record as kafkajs takes it. */
export interface KafkaRecord {
  /** The session id: Kafka keeps one key on one partition, so each session stays in order. */
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The event time, epoch milliseconds as a string (kafkajs' convention). */
  readonly timestamp?: string;
}

/** Kafka's default `max.message.bytes` is 1 MiB; stay well below it with the headers and batch overhead. */
export const MAX_VALUE_BYTES = 900_000;
const TRUNCATION_NOTE = ' ...[truncated by querygate]';

/**
 * The record for one event: key = session id, value = the event as JSON (native) or its OCSF mapping.
 * An event whose value would exceed `maxValueBytes` (only a huge statement text can) is sent with the
 * statement text cut and `truncated: ["statement.text"]`, rather than blocking every event behind it.
 */
export function toKafkaRecord(event: AuditEvent, format: OutputFormat, vendorName: string, maxValueBytes = MAX_VALUE_BYTES): KafkaRecord {
  const encode = (e: AuditEvent): string => (format === 'ocsf' ? JSON.stringify(toOcsf(e, vendorName)) : JSON.stringify(e));
  let value = encode(event);
  const excess = Buffer.byteLength(value) - maxValueBytes;
  if (excess > 0 && event.statement !== undefined) {
    // OCSF carries the text once (query_info) and native once: cutting `excess` characters (each at
    // least one byte), plus room for the note and JSON escapes, brings the value under the limit.
    const keep = Math.max(0, event.statement.text.length - excess - 1024);
    const cut = { ...event, statement: { ...event.statement, text: event.statement.text.slice(0, keep) + TRUNCATION_NOTE }, truncated: ['statement.text'] };
    value = encode(cut as AuditEvent);
  }
  const time = Date.parse(event.time);
  return {
    key: event.sessionId,
    value,
    headers: {
      [Headers.SchemaVersion]: String(event.schemaVersion ?? AUDIT_SCHEMA_VERSION),
      [Headers.EventType]: event.event,
      [Headers.EventId]: event.id,
      [Headers.Format]: format,
    },
    ...(Number.isFinite(time) ? { timestamp: String(time) } : {}),
  };
}
