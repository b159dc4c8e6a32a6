// Option validation: every bad option names its key path; no servers.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PluginOptionsError, Secret, silentLogger } from '@querygate/core';
import { DEFAULT_TOPIC, kafkaClientConfig, parseKafkaAuditOptions } from '@querygate/plugin-audit-kafka';

function errorOf(raw: unknown): PluginOptionsError {
  try {
    parseKafkaAuditOptions(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(PluginOptionsError);
    return err as PluginOptionsError;
  }
  throw new Error('expected a PluginOptionsError');
}

const brokers = ['127.0.0.1:9092'];

describe('parseKafkaAuditOptions', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'qg-audit-kafka-options-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fills defaults', () => {
    expect(parseKafkaAuditOptions({ brokers })).toEqual({
      brokers,
      clientId: 'querygate-audit',
      topic: DEFAULT_TOPIC,
      format: 'native',
      lingerMs: 20,
      batchSize: 500,
      compression: 'none',
      ssl: undefined,
      sasl: undefined,
      connectionTimeoutMs: 3000,
      requestTimeoutMs: 10_000,
      shutdownTimeoutMs: 10_000,
      vendorName: 'querygate',
      spool: { dir: undefined, fsync: 'always', fsyncIntervalMs: 200, segmentBytes: 16 * 1024 * 1024 },
    });
    expect(DEFAULT_TOPIC).toBe('querygate.audit');
  });

  it('accepts durations, formats, compression and spool settings', () => {
    const o = parseKafkaAuditOptions({
      brokers: ['kafka-1.internal:9093', '[::1]:9092'], topic: 'sec.audit_v1', format: 'ocsf', lingerMs: '50ms',
      batchSize: 1000, compression: 'gzip', shutdownTimeout: '30s', spool: { fsync: 'batch', fsyncInterval: '1s', dir: '/var/spool/qg' },
    });
    expect(o).toMatchObject({
      topic: 'sec.audit_v1', format: 'ocsf', lingerMs: 50, batchSize: 1000, compression: 'gzip', shutdownTimeoutMs: 30_000,
      spool: { fsync: 'batch', fsyncIntervalMs: 1000, dir: '/var/spool/qg' },
    });
  });

  it.each([
    [{}, ['brokers'], /required/],
    [{ brokers: [] }, ['brokers'], /required/],
    [{ brokers: ['localhost'] }, ['brokers', 0], /host:port/],
    [{ brokers: ['127.0.0.1:9092', 7] }, ['brokers', 1], /host:port/],
    [{ brokers, topic: 'bad topic!' }, ['topic'], /topic name/],
    [{ brokers, topic: '' }, ['topic'], /non-empty/],
    [{ brokers, format: 'cef' }, ['format'], /native, ocsf/],
    [{ brokers, lingerMs: -1 }, ['lingerMs'], /duration/],
    [{ brokers, lingerMs: '2 weeks' }, ['lingerMs'], /duration/],
    [{ brokers, batchSize: 0 }, ['batchSize'], /integer/],
    [{ brokers, batchSize: 1.5 }, ['batchSize'], /integer/],
    [{ brokers, compression: 'snappy' }, ['compression'], /not built into kafkajs/],
    [{ brokers, compression: 'zstd' }, ['compression'], /not built into kafkajs/],
    [{ brokers, compression: 'brotli' }, ['compression'], /none, gzip/],
    [{ brokers, spool: { fsync: 'sometimes' } }, ['spool', 'fsync'], /always, batch, never/],
    [{ brokers, spool: { segmentBytes: 10 } }, ['spool', 'segmentBytes'], /integer/],
    [{ brokers, spool: { size: 1 } }, ['spool', 'size'], /unknown option/],
    [{ brokers, spool: 'dir' }, ['spool'], /must be/],
    [{ brokers, sasl: { username: 'u', password: 'p' } }, ['sasl', 'mechanism'], /required/],
    [{ brokers, sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } }, ['sasl', 'mechanism'], /plain/],
    [{ brokers, sasl: { mechanism: 'plain', password: 'p' } }, ['sasl', 'username'], /non-empty/],
    [{ brokers, sasl: { mechanism: 'plain', username: 'u' } }, ['sasl', 'password'], /required/],
    [{ brokers, ssl: 'yes' }, ['ssl'], /must be true/],
    [{ brokers, ssl: { ca: '/nonexistent/ca.pem' } }, ['ssl', 'ca'], /ENOENT/],
    [{ brokers, ssl: { rejectUnauthorized: 'no' } }, ['ssl', 'rejectUnauthorized'], /boolean/],
    [{ brokers, topics: 'x' }, ['topics'], /unknown option "topics"/],
    ['brokers', [], /mapping/],
  ])('rejects %j at %j', (raw, path, message) => {
    const err = errorOf(raw);
    expect(err.path).toEqual(path);
    expect(err.message).toMatch(message);
  });

  it('takes SASL passwords as Secrets (or strings) and never prints them', () => {
    const secret = new Secret('s3cret-value', 'env:KAFKA_PASSWORD');
    const o = parseKafkaAuditOptions({ brokers, sasl: { mechanism: 'SCRAM-SHA-512', username: 'gw', password: secret } });
    expect(o.sasl?.mechanism).toBe('scram-sha-512');
    expect(o.sasl?.password.reveal()).toBe('s3cret-value');
    expect(JSON.stringify(o)).not.toContain('s3cret-value');
    const plain = parseKafkaAuditOptions({ brokers, sasl: { mechanism: 'plain', username: 'gw', password: 'pw-plain' } });
    expect(plain.sasl?.password.reveal()).toBe('pw-plain');
    expect(JSON.stringify(plain)).not.toContain('pw-plain');
  });

  it('reads TLS files at start (paths) or takes PEM from ${file:...} secrets', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n');
    expect(parseKafkaAuditOptions({ brokers, ssl: true }).ssl).toEqual({ rejectUnauthorized: true });
    expect(parseKafkaAuditOptions({ brokers, ssl: false }).ssl).toBeUndefined();
    const o = parseKafkaAuditOptions({ brokers, ssl: { ca, cert: new Secret('CERT', 'file:c'), key: new Secret('KEY', 'file:k') } });
    expect(o.ssl).toEqual({ ca: expect.stringContaining('CA'), cert: 'CERT', key: 'KEY', rejectUnauthorized: true });
    expect(errorOf({ brokers, ssl: { cert: new Secret('CERT', 'file:c') } }).path).toEqual(['ssl']);
  });

  it('hands kafkajs the TLS material and the revealed SASL password', () => {
    const o = parseKafkaAuditOptions({
      brokers, clientId: 'gw-7', connectionTimeout: '2s', requestTimeout: 7000,
      ssl: { ca: new Secret('CA-PEM', 'file:ca'), cert: new Secret('CERT', 'file:c'), key: new Secret('KEY', 'file:k') },
      sasl: { mechanism: 'scram-sha-256', username: 'gw', password: new Secret('s3cret', 'env:P') },
    });
    expect(kafkaClientConfig(o, silentLogger)).toMatchObject({
      clientId: 'gw-7', brokers, connectionTimeout: 2000, requestTimeout: 7000,
      ssl: { ca: ['CA-PEM'], cert: 'CERT', key: 'KEY', rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-256', username: 'gw', password: 's3cret' },
    });
    expect(kafkaClientConfig(parseKafkaAuditOptions({ brokers, ssl: true }), silentLogger).ssl).toBe(true);
    expect(kafkaClientConfig(parseKafkaAuditOptions({ brokers, ssl: { rejectUnauthorized: false } }), silentLogger).ssl).toEqual({ rejectUnauthorized: false });
    expect(kafkaClientConfig(parseKafkaAuditOptions({ brokers }), silentLogger)).not.toHaveProperty('sasl');
  });
});
