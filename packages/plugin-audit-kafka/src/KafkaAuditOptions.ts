import { readFileSync } from 'node:fs';
import { PluginOptionsError, parseDuration } from '@querygate/core';

export type OutputFormat = 'native' | 'ocsf';
export type FsyncPolicy = 'always' | 'batch' | 'never';
export type Compression = 'none' | 'gzip';
export type SaslMechanismName = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** Something that holds a secret value: core's `Secret` (what `${env:..}` / `${file:..}` resolve to). */
export interface SecretLike {
  reveal(): string;
}

export interface TlsOptions {
  /** PEM contents (already read from the configured file paths). */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized: boolean;
}

export interface SaslOptions {
  readonly mechanism: SaslMechanismName;
  readonly username: string;
  /** Kept wrapped until the client is built, so the options object never prints the value. */
  readonly password: SecretLike;
}

export interface SpoolOptions {
  /** Absolute or relative directory; default `<plugin dataDir>/spool`. */
  readonly dir: string | undefined;
  readonly fsync: FsyncPolicy;
  /** `batch`: the longest an appended event waits for its fsync. */
  readonly fsyncIntervalMs: number;
  /** A segment file is closed and a new one started past this size. */
  readonly segmentBytes: number;
}

/** The validated plugin options (`plugins[].options` of `@querygate/plugin-audit-kafka`). */
export interface KafkaAuditOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly topic: string;
  readonly format: OutputFormat;
  readonly lingerMs: number;
  readonly batchSize: number;
  readonly compression: Compression;
  readonly ssl: TlsOptions | undefined;
  readonly sasl: SaslOptions | undefined;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  /** OCSF `metadata.product.vendor_name`. */
  readonly vendorName: string;
  readonly spool: SpoolOptions;
}

export const DEFAULT_TOPIC = 'querygate.audit';

const KNOWN_KEYS = new Set([
  'brokers', 'clientId', 'topic', 'format', 'lingerMs', 'batchSize', 'compression', 'ssl', 'sasl',
  'connectionTimeout', 'requestTimeout', 'shutdownTimeout', 'vendorName', 'spool',
]);
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const BROKER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const UNSUPPORTED_CODECS = new Set(['snappy', 'lz4', 'zstd']);

type Path = readonly (string | number)[];

function fail(path: Path, message: string): never {
  throw new PluginOptionsError(path, message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isSecretLike(value: unknown): value is SecretLike {
  return typeof value === 'object' && value !== null && typeof (value as { reveal?: unknown }).reveal === 'function';
}

function plainSecret(value: string): SecretLike {
  return { reveal: () => value, toString: () => '[secret]', toJSON: () => '[secret]' } as SecretLike;
}

function rejectUnknown(record: Record<string, unknown>, known: ReadonlySet<string>, path: Path): void {
  for (const key of Object.keys(record)) {
    if (!known.has(key)) fail([...path, key], `unknown option "${key}" (known: ${[...known].join(', ')})`);
  }
}

function str(value: unknown, path: Path, fallback?: string): string {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') fail(path, 'must be a non-empty string');
  return value;
}

function int(value: unknown, path: Path, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(path, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function duration(value: unknown, path: Path, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const ms = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : undefined;
  if (ms === undefined || ms > max) fail(path, `must be a duration such as 20ms, 5s or a number of milliseconds (at most ${max} ms)`);
  return ms;
}

function oneOf<T extends string>(value: unknown, path: Path, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(path, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** A PEM given as a file path (read now, so a typo fails at start) or as a `${file:...}` secret (its contents). */
function pem(value: unknown, path: Path): string | undefined {
  if (value === undefined) return undefined;
  if (isSecretLike(value)) return value.reveal();
  if (typeof value !== 'string' || value === '') fail(path, 'must be a file path or a ${file:...} reference');
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    return fail(path, `cannot read ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function parseSsl(value: unknown, path: Path): TlsOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { rejectUnauthorized: true };
  if (!isRecord(value)) fail(path, 'must be true, false or { ca, cert, key, rejectUnauthorized }');
  rejectUnknown(value, new Set(['ca', 'cert', 'key', 'rejectUnauthorized']), path);
  const rejectUnauthorized = value.rejectUnauthorized ?? true;
  if (typeof rejectUnauthorized !== 'boolean') fail([...path, 'rejectUnauthorized'], 'must be a boolean');
  const tls: TlsOptions = {
    ca: pem(value.ca, [...path, 'ca']),
    cert: pem(value.cert, [...path, 'cert']),
    key: pem(value.key, [...path, 'key']),
    rejectUnauthorized,
  };
  if ((tls.cert === undefined) !== (tls.key === undefined)) fail(path, 'cert and key go together (client certificate)');
  return tls;
}

function parseSasl(value: unknown, path: Path): SaslOptions | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) fail(path, 'must be { mechanism, username, password }');
  rejectUnknown(value, new Set(['mechanism', 'username', 'password']), path);
  if (value.mechanism === undefined) fail([...path, 'mechanism'], 'is required (plain, scram-sha-256 or scram-sha-512)');
  const rawMechanism = typeof value.mechanism === 'string' ? value.mechanism.toLowerCase() : value.mechanism;
  const mechanism = oneOf<SaslMechanismName>(rawMechanism, [...path, 'mechanism'], ['plain', 'scram-sha-256', 'scram-sha-512'], 'plain');
  const username = isSecretLike(value.username) ? value.username.reveal() : str(value.username, [...path, 'username']);
  let password: SecretLike;
  if (isSecretLike(value.password)) password = value.password;
  else if (typeof value.password === 'string' && value.password !== '') password = plainSecret(value.password);
  else return fail([...path, 'password'], 'is required: a string or, better, "${env:NAME}" / "${file:PATH}"');
  return { mechanism, username, password };
}

function parseSpool(value: unknown, path: Path): SpoolOptions {
  if (value === undefined) value = {};
  if (!isRecord(value)) fail(path, 'must be { dir, fsync, fsyncInterval, segmentBytes }');
  rejectUnknown(value, new Set(['dir', 'fsync', 'fsyncInterval', 'segmentBytes']), path);
  return {
    dir: value.dir === undefined ? undefined : str(value.dir, [...path, 'dir']),
    fsync: oneOf<FsyncPolicy>(value.fsync, [...path, 'fsync'], ['always', 'batch', 'never'], 'always'),
    fsyncIntervalMs: duration(value.fsyncInterval, [...path, 'fsyncInterval'], 200, 60_000),
    segmentBytes: int(value.segmentBytes, [...path, 'segmentBytes'], 16 * 1024 * 1024, 4096, 1024 * 1024 * 1024),
  };
}

/** Validates `ctx.options`; throws PluginOptionsError naming the offending key. */
export function parseKafkaAuditOptions(raw: unknown): KafkaAuditOptions {
  if (raw === undefined || raw === null) raw = {};
  if (!isRecord(raw)) fail([], 'options must be a mapping');
  rejectUnknown(raw, KNOWN_KEYS, []);

  if (!Array.isArray(raw.brokers) || raw.brokers.length === 0) fail(['brokers'], 'is required: a list of "host:port"');
  const brokers = raw.brokers.map((b: unknown, i: number) => {
    if (typeof b !== 'string') return fail(['brokers', i], 'must be a "host:port" string');
    const m = BROKER.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) return fail(['brokers', i], `"${b}" is not "host:port"`);
    return b;
  });

  const topic = str(raw.topic, ['topic'], DEFAULT_TOPIC);
  if (!TOPIC_NAME.test(topic) || topic === '.' || topic === '..') {
    fail(['topic'], 'must be a Kafka topic name: 1-249 of [A-Za-z0-9._-]');
  }

  if (typeof raw.compression === 'string' && UNSUPPORTED_CODECS.has(raw.compression.toLowerCase())) {
    fail(['compression'], `${raw.compression} is not built into kafkajs; use gzip or none`);
  }

  return {
    brokers,
    clientId: str(raw.clientId, ['clientId'], 'querygate-audit'),
    topic,
    format: oneOf<OutputFormat>(raw.format, ['format'], ['native', 'ocsf'], 'native'),
    lingerMs: duration(raw.lingerMs, ['lingerMs'], 20, 10_000),
    batchSize: int(raw.batchSize, ['batchSize'], 500, 1, 10_000),
    compression: oneOf<Compression>(raw.compression, ['compression'], ['none', 'gzip'], 'none'),
    ssl: parseSsl(raw.ssl, ['ssl']),
    sasl: parseSasl(raw.sasl, ['sasl']),
    connectionTimeoutMs: duration(raw.connectionTimeout, ['connectionTimeout'], 3000, 600_000),
    requestTimeoutMs: duration(raw.requestTimeout, ['requestTimeout'], 10_000, 600_000),
    shutdownTimeoutMs: duration(raw.shutdownTimeout, ['shutdownTimeout'], 10_000, 600_000),
    vendorName: str(raw.vendorName, ['vendorName'], 'querygate'),
    spool: parseSpool(raw.spool, ['spool']),
  };
}
