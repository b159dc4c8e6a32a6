// The Kafka sink against real brokers: the shared one for delivery and format, a private one that this
// file stops and restarts for the nothing-lost and restart tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditTrail, silentLogger, type AuditEvent } from '@querygate/core';
import { startKafka, type KafkaBroker } from '@querygate/services';
import { KafkaAuditSink, parseKafkaAuditOptions, Headers, type KafkaAuditOptions } from '@querygate/plugin-audit-kafka';
import { describeWith, kafkaBrokers } from '../../../test/services';
import {
  auditEvent, createTopic, quietKafka, range, readTopic, seqsBySession, settledRecordCount, sleep, waitFor,
} from './helpers';

const tempDirs: string[] = [];
function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `qg-audit-kafka-${name}-`));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => { for (const d of tempDirs) rmSync(d, { recursive: true, force: true }); });

const sinks: KafkaAuditSink[] = [];
/** A started sink that afterAll shuts down even when its test failed half-way. */
function newSink(options: KafkaAuditOptions, spoolDir: string): KafkaAuditSink {
  const sink = new KafkaAuditSink(options, { logger: silentLogger, spoolDir });
  sinks.push(sink);
  sink.start();
  return sink;
}
afterAll(async () => { await Promise.all(sinks.map((s) => s.shutdown())); }, 60_000);

function sinkOptions(brokers: readonly string[], topic: string, extra: Record<string, unknown> = {}): KafkaAuditOptions {
  return parseKafkaAuditOptions({
    brokers, topic, lingerMs: 5, batchSize: 200, connectionTimeout: 1000, requestTimeout: 5000, shutdownTimeout: '10s',
    ...extra,
  });
}

describeWith('kafka')('KafkaAuditSink (shared broker)', () => {
  it('delivers N events: exactly N records, per-session order, key and headers', async () => {
    const brokers = kafkaBrokers();
    const topic = `audit-basic-${Date.now()}`;
    const kafka = quietKafka(brokers, 'audit-basic-reader');
    await createTopic(kafka, topic);
    const sink = newSink(sinkOptions(brokers, topic), join(tempDir('basic'), 'spool'));
    const sessions = ['s-a', 's-b', 's-c', 's-d'];
    const perSession = 50;
    for (let seq = 1; seq <= perSession; seq++) {
      const result = await sink.export(sessions.map((s) => auditEvent(s, seq)));
      expect(result).toEqual({ ok: true });
    }
    expect(await sink.drain(20_000)).toBe(true);
    expect(sink.status()).toMatchObject({ spooledEvents: 0, delivered: sessions.length * perSession, connected: true });
    await sink.shutdown();
    await sink.shutdown();

    expect(await settledRecordCount(kafka, topic, sessions.length * perSession)).toBe(sessions.length * perSession);
    const messages = await readTopic(kafka, topic, sessions.length * perSession);
    const bySession = seqsBySession(messages);
    for (const s of sessions) expect(bySession.get(s)).toEqual(range(1, perSession));
    for (const m of messages) {
      const event = JSON.parse(m.value!.toString()) as AuditEvent;
      expect(m.headers?.[Headers.SchemaVersion]?.toString()).toBe('1');
      expect(m.headers?.[Headers.EventType]?.toString()).toBe(event.event);
      expect(m.headers?.[Headers.EventId]?.toString()).toBe(event.id);
      expect(m.headers?.[Headers.Format]?.toString()).toBe('native');
      expect(m.timestamp).toBe(String(Date.parse(event.time)));
    }
  });

  it('format: ocsf writes OCSF records (same keys and headers)', async () => {
    const brokers = kafkaBrokers();
    const topic = `audit-ocsf-${Date.now()}`;
    const kafka = quietKafka(brokers, 'audit-ocsf-reader');
    await createTopic(kafka, topic, 1);
    const sink = newSink(sinkOptions(brokers, topic, { format: 'ocsf', compression: 'gzip' }), join(tempDir('ocsf'), 'spool'));
    expect(await sink.export(range(1, 6).map((seq) => auditEvent('o-1', seq)))).toEqual({ ok: true });
    expect(await sink.drain(20_000)).toBe(true);
    await sink.shutdown();
    const messages = await readTopic(kafka, topic, 6);
    expect(messages).toHaveLength(6);
    const records = messages.map((m) => JSON.parse(m.value!.toString()) as Record<string, unknown>);
    expect(records.map((r) => r.class_uid)).toEqual([3002, 6005, 6005, 6005, 6005, 6005]);
    expect(records.map((r) => (r.metadata as { uid: string }).uid)).toEqual(range(1, 6).map((i) => `o-1:${i}`));
    for (const m of messages) {
      expect(m.key?.toString()).toBe('o-1');
      expect(m.headers?.[Headers.Format]?.toString()).toBe('ocsf');
      expect(m.headers?.[Headers.SchemaVersion]?.toString()).toBe('1');
    }
  });

  it('splits batches the broker refuses as too large and cuts an oversized statement, in order', async () => {
    const brokers = kafkaBrokers();
    const topic = `audit-large-${Date.now()}`;
    const kafka = quietKafka(brokers, 'audit-large-reader');
    await createTopic(kafka, topic, 1, [{ name: 'max.message.bytes', value: '80000' }]);
    const sink = newSink(sinkOptions(brokers, topic), join(tempDir('large'), 'spool'));
    const text = (n: number): AuditEvent['statement'] => ({ text: `SELECT '${'x'.repeat(n)}'`, kind: 'select', command: 'select', objects: [], risks: [] });
    const events = range(1, 11).map((seq) => auditEvent('l-1', seq, { statement: text(seq === 6 ? 150_000 : 10_000) }));
    expect(await sink.export(events)).toEqual({ ok: true });
    expect(await sink.drain(20_000)).toBe(true);
    await sink.shutdown();
    const messages = await readTopic(kafka, topic, 11);
    expect(messages).toHaveLength(11);
    const values = messages.map((m) => JSON.parse(m.value!.toString()) as AuditEvent & { truncated?: string[] });
    expect(values.map((v) => v.seq)).toEqual(range(1, 11));
    expect(values[5]!.truncated).toEqual(['statement.text']);
    expect(values[5]!.statement!.text.length).toBeLessThan(70_000);
    expect(values[4]!.truncated).toBeUndefined();
    expect(values[4]!.statement!.text.length).toBe(10_009);
  });
});

// Stopping the shared broker would pull it from under other test files, so these start their own.
describeWith('kafka')('KafkaAuditSink (private broker: outages and sink restart)', () => {
  let broker: KafkaBroker;

  beforeAll(async () => {
    broker = await startKafka({ name: 'audit-kafka-outage' });
  }, 120_000);

  afterAll(async () => {
    await broker?.destroy();
  }, 60_000);

  it.each([
    ['stops (clean shutdown)', 'stop'],
    ['is killed (SIGKILL)', 'kill'],
  ] as const)('loses nothing and duplicates nothing when the broker %s mid-run and comes back', async (_how, how) => {
    const topic = `audit-outage-${how}`;
    const kafka = quietKafka(broker.brokers, 'audit-outage-reader');
    await createTopic(kafka, topic);
    const sink = newSink(sinkOptions(broker.brokers, topic), join(tempDir('outage'), 'spool'));
    // The real pipeline: the trail batches per event-loop turn and exports one batch at a time.
    const trail = new AuditTrail({ gatewayId: 'gw-test', strict: true }, silentLogger);
    trail.addSink(sink);
    const sessions = range(1, 8).map((i) => `outage-${i}`);
    const seqs = new Map(sessions.map((s) => [s, 0]));
    let unhealthy = 0;
    let emitting = true;
    const emitter = (async () => {
      while (emitting) {
        for (const s of sessions) {
          const seq = seqs.get(s)! + 1;
          seqs.set(s, seq);
          const { schemaVersion: _v, id: _id, time: _t, gateway: _g, ...input } = auditEvent(s, seq);
          trail.emit(input);
        }
        if (!trail.healthy) unhealthy++;
        await sleep(10);
      }
    })();

    const t0 = Date.now();
    const phases: string[] = [];
    const mark = (what: string): void => { phases.push(`${what} ${Date.now() - t0}ms`); };
    await waitFor('first deliveries', () => sink.status().delivered > 200);
    mark('delivering');
    await (how === 'kill' ? broker.kill() : broker.stop());
    mark('broker stopped');
    await waitFor('the sink to notice the outage', () => !sink.status().connected);
    const spooledAt = sink.status().spooledEvents;
    await sleep(1500);
    const during = sink.status();
    expect(during.connected).toBe(false);
    expect(during.spooledEvents).toBeGreaterThan(spooledAt);
    mark('starting');
    await broker.start();
    mark('broker started');
    await waitFor('delivery to resume', () => sink.status().connected, 30_000);
    mark('resumed');
    await sleep(300);
    emitting = false;
    await emitter;
    await trail.flush();
    expect(await sink.drain(30_000)).toBe(true);
    mark('drained');
    await trail.shutdown();

    expect(unhealthy).toBe(0);
    expect(trail.failures).toBe(0);
    const perSession = seqs.get(sessions[0]!)!;
    const total = perSession * sessions.length;
    expect(sink.status().delivered).toBe(total);
    // Exact record count from the watermarks: a duplicate would show here, no dedupe in between.
    expect(await settledRecordCount(kafka, topic, total)).toBe(total);
    const bySession = seqsBySession(await readTopic(kafka, topic, total));
    for (const s of sessions) expect(bySession.get(s)).toEqual(range(1, perSession));
    console.log(`outage test (${how}): ${total} events (${perSession} per session), ${during.spooledEvents} spooled during the outage; ${phases.join(', ')}`);
  }, 90_000);

  it('a new sink on the same spool delivers what the old one left, nothing twice', async () => {
    const topic = 'audit-sink-restart';
    const kafka = quietKafka(broker.brokers, 'audit-restart-reader');
    await createTopic(kafka, topic);
    const spoolDir = join(tempDir('restart'), 'spool');
    // Small segments: the spool rolls, reads across segment files and deletes delivered ones.
    const options = sinkOptions(broker.brokers, topic, { shutdownTimeout: '1s', spool: { segmentBytes: 4096, fsync: 'always' } });
    const sessions = ['r-1', 'r-2', 'r-3', 'r-4'];

    const first = newSink(options, spoolDir);
    for (let seq = 1; seq <= 25; seq++) expect(await first.export(sessions.map((s) => auditEvent(s, seq)))).toEqual({ ok: true });
    expect(await first.drain(20_000)).toBe(true);
    expect(first.status()).toMatchObject({ delivered: 100, spooledEvents: 0, spoolSegments: 1 });

    await broker.stop();
    for (let seq = 26; seq <= 50; seq++) expect(await first.export(sessions.map((s) => auditEvent(s, seq)))).toEqual({ ok: true });
    const t0 = Date.now();
    await first.shutdown();
    const shutdownMs = Date.now() - t0;
    expect(shutdownMs).toBeLessThan(8000);
    expect(first.status()).toMatchObject({ delivered: 100, spooledEvents: 100 });
    expect(first.status().spoolSegments).toBeGreaterThan(1);
    expect(await first.export([auditEvent('r-1', 51)])).toMatchObject({ ok: false });

    await broker.start();
    const second = newSink(options, spoolDir);
    await waitFor('the spool to open', () => second.status().spooledEvents > 0);
    expect(second.status().spooledEvents).toBe(100);
    expect(await second.drain(30_000)).toBe(true);
    expect(second.status()).toMatchObject({ delivered: 100, spooledEvents: 0, spoolSegments: 1, corruptLines: 0 });
    await second.shutdown();

    expect(await settledRecordCount(kafka, topic, 200)).toBe(200);
    const bySession = seqsBySession(await readTopic(kafka, topic, 200));
    for (const s of sessions) expect(bySession.get(s)).toEqual(range(1, 50));
    console.log(`restart test: shutdown with the broker down took ${shutdownMs} ms`);
  }, 60_000);
});
