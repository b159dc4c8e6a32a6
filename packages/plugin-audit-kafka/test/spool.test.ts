// The spool on its own, and the sink's behaviour when the spool cannot be written (no broker needed:
// export never waits for Kafka).
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditTrail, PluginOptionsError, silentLogger, type AuditSink, type PluginContext } from '@querygate/core';
import plugin, { KafkaAuditSink, Spool, parseKafkaAuditOptions } from '@querygate/plugin-audit-kafka';
import { auditEvent, range, waitFor } from './helpers';

let root: string;
beforeAll(() => { root = mkdtempSync(join(tmpdir(), 'qg-audit-spool-')); });
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `spool-${++n}`);

const spoolOptions = (dir: string, segmentBytes = 1024 * 1024) => ({ dir, fsync: 'always' as const, fsyncIntervalMs: 50, segmentBytes });
const segments = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();

describe('Spool', () => {
  it('appends JSON lines and reads them back in order, across segments', async () => {
    const dir = freshDir();
    const spool = await Spool.open(spoolOptions(dir, 4096));
    for (let seq = 1; seq <= 40; seq++) await spool.append([auditEvent('a', seq), auditEvent('b', seq)]);
    expect(spool.depth.events).toBe(80);
    expect(segments(dir).length).toBeGreaterThan(3);
    const first = await spool.read(spool.position, 30);
    expect(first.events.map((e) => `${e.sessionId}${e.seq}`)).toEqual(range(1, 15).flatMap((s) => [`a${s}`, `b${s}`]));
    await spool.commit(first);
    expect(spool.depth.events).toBe(50);
    const rest = await spool.read(spool.position, 1000);
    expect(rest.events).toHaveLength(50);
    expect(rest.events[49]).toMatchObject({ sessionId: 'b', seq: 40 });
    await spool.commit(rest);
    expect(spool.depth).toEqual({ events: 0, bytes: 0, segments: 1 });
    expect(segments(dir)).toHaveLength(1);
    // Every line is the event's JSON, one per line: a person can read a spool with jq.
    const lines = readFileSync(join(dir, segments(dir)[0]!), 'utf8').trimEnd().split('\n');
    expect(JSON.parse(lines[lines.length - 1]!)).toEqual(auditEvent('b', 40));
    await spool.close();
    await spool.close();
  });

  it('caps a read by bytes, but always returns at least one event', async () => {
    const spool = await Spool.open(spoolOptions(freshDir()));
    await spool.append(range(1, 10).map((s) => auditEvent('c', s)));
    const lineBytes = spool.depth.bytes / 10;
    const capped = await spool.read(spool.position, 100, lineBytes * 3.5);
    expect(capped.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await spool.read(spool.position, 100, 1)).events).toHaveLength(1);
    await spool.close();
  });

  it('recovers the committed position and the undelivered count after a restart', async () => {
    const dir = freshDir();
    const a = await Spool.open(spoolOptions(dir, 4096));
    await a.append(range(1, 30).map((s) => auditEvent('x', s)));
    await a.append(range(31, 60).map((s) => auditEvent('x', s)));
    await a.commit(await a.read(a.position, 25));
    await a.close();
    const b = await Spool.open(spoolOptions(dir, 4096));
    expect(b.depth.events).toBe(35);
    const batch = await b.read(b.position, 100);
    expect(batch.events.map((e) => e.seq)).toEqual(range(26, 60));
    await b.close();
  });

  it('cuts a torn last line (a crash mid-append) and skips unparseable lines', async () => {
    const dir = freshDir();
    const a = await Spool.open(spoolOptions(dir));
    await a.append([auditEvent('t', 1), auditEvent('t', 2)]);
    await a.close();
    const file = join(dir, segments(dir)[0]!);
    appendFileSync(file, 'not json at all\n{"half": ');
    const b = await Spool.open(spoolOptions(dir));
    expect(readFileSync(file, 'utf8').endsWith('\n')).toBe(true);
    await b.append([auditEvent('t', 3)]);
    const batch = await b.read(b.position, 100);
    expect(batch.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(batch.skipped).toBe(1);
    expect(b.corrupt).toBe(1);
    await b.commit(batch);
    expect(b.depth.events).toBe(0);
    await b.close();
  });

  it('resumes at the next segment when the committed one was removed by hand', async () => {
    const dir = freshDir();
    const a = await Spool.open(spoolOptions(dir, 4096));
    for (let seq = 1; seq <= 30; seq++) await a.append([auditEvent('h', seq)]);
    await a.commit(await a.read(a.position, 3));
    await a.close();
    const files = segments(dir);
    expect(files.length).toBeGreaterThan(2);
    rmSync(join(dir, files[0]!));
    const b = await Spool.open(spoolOptions(dir, 4096));
    const rest = await b.read(b.position, 100);
    expect(rest.events.length).toBeGreaterThan(0);
    expect(rest.events[rest.events.length - 1]!.seq).toBe(30);
    expect(b.depth.events).toBe(rest.events.length);
    await b.close();
  });

  it('handles a line longer than a read chunk', async () => {
    const dir = freshDir();
    const spool = await Spool.open(spoolOptions(dir));
    const big = auditEvent('big', 1, { statement: { text: 'x'.repeat(600_000), kind: 'select', command: 'select', objects: [], risks: [] } });
    await spool.append([auditEvent('big', 0), big, auditEvent('big', 2)]);
    const batch = await spool.read(spool.position, 10);
    expect(batch.events.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(batch.events[1]!.statement!.text).toHaveLength(600_000);
    await spool.close();
  });

  it('fails to open where the directory cannot exist (its parent is a regular file)', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    await expect(Spool.open(spoolOptions(join(file, 'spool')))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

function sinkFor(spoolDir: string, extra: Record<string, unknown> = {}): KafkaAuditSink {
  // Port 1 on loopback: nothing listens, so delivery fails fast; export must not care.
  const options = parseKafkaAuditOptions({ brokers: ['127.0.0.1:1'], shutdownTimeout: '200ms', connectionTimeout: 200, ...extra });
  return new KafkaAuditSink(options, { logger: silentLogger, spoolDir });
}

describe('KafkaAuditSink without a broker', () => {
  it('reports ok from the spool while Kafka is unreachable, and keeps the events for later', async () => {
    const dir = freshDir();
    const sink = sinkFor(dir);
    sink.start();
    for (let seq = 1; seq <= 20; seq++) expect(await sink.export([auditEvent('k', seq)])).toEqual({ ok: true });
    await waitFor('a delivery attempt to fail', () => sink.status().lastError !== undefined);
    expect(sink.status()).toMatchObject({ spooledEvents: 20, delivered: 0, connected: false, spoolWritable: true });
    await sink.flush();
    expect(await sink.drain(100)).toBe(false);
    await sink.shutdown();
    const again = await Spool.open(spoolOptions(dir));
    expect(again.depth.events).toBe(20);
    await again.close();
  });

  it('returns ok:false (never throws) when the spool cannot be written; strict trail turns unhealthy', async () => {
    const file = join(root, 'not-a-dir');
    writeFileSync(file, 'x');
    const sink = sinkFor(join(file, 'spool'));
    sink.start();
    const result = await sink.export([auditEvent('u', 1)]);
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/cannot be written.*ENOTDIR/);
    expect(sink.status().spoolWritable).toBe(false);

    const trail = new AuditTrail({ gatewayId: 'gw', strict: true }, silentLogger);
    trail.addSink(sink);
    trail.emit({ event: 'session.started', sessionId: 'u', seq: 2 });
    await trail.flush();
    expect(trail.healthy).toBe(false);
    await trail.shutdown();
  });

  it('fails while the spool directory is replaced by a file mid-run, and recovers when it is back', async () => {
    const dir = freshDir();
    // Each export is bigger than a segment, so every export opens a new segment file in the directory.
    const sink = sinkFor(dir, { spool: { segmentBytes: 4096 } });
    sink.start();
    const trail = new AuditTrail({ gatewayId: 'gw', strict: true }, silentLogger);
    trail.addSink(sink);
    const fat = (seq: number) => {
      const { schemaVersion: _v, id: _i, time: _t, gateway: _g, ...input } = auditEvent('m', seq, {
        statement: { text: 'y'.repeat(5000), kind: 'select', command: 'select', objects: [], risks: [] },
      });
      return input;
    };
    trail.emit(fat(1));
    await trail.flush();
    expect(trail.healthy).toBe(true);

    rmSync(dir, { recursive: true, force: true });
    writeFileSync(dir, 'in the way');
    trail.emit(fat(2));
    await trail.flush();
    expect(trail.healthy).toBe(false);
    expect(sink.status().spoolWritable).toBe(false);

    rmSync(dir);
    mkdirSync(dir);
    trail.emit(fat(3));
    await trail.flush();
    expect(trail.healthy).toBe(true);
    expect(sink.status().spoolWritable).toBe(true);
    await trail.shutdown();
    expect(existsSync(dir)).toBe(true);
  });
});

describe('the plugin', () => {
  function context(options: unknown, dataDir: string, sinks: AuditSink[]): PluginContext {
    return {
      options,
      logger: silentLogger,
      gateway: { id: 'gw', dataDir, adminUrl: undefined },
      addInterceptor: () => undefined,
      addAuditSink: (sink) => { sinks.push(sink); },
      provide: () => undefined,
      use: () => undefined,
      audit: () => undefined,
      addAdminRoute: () => undefined,
      onShutdown: () => undefined,
    };
  }

  it('registers one sink spooling under <dataDir>/spool', async () => {
    const dataDir = freshDir();
    const sinks: AuditSink[] = [];
    await plugin.register(context({ brokers: ['127.0.0.1:1'], topic: 'sec.audit', shutdownTimeout: 100 }, dataDir, sinks));
    expect(plugin.name).toBe('audit-kafka');
    expect(sinks).toHaveLength(1);
    expect(sinks[0]!.name).toBe('kafka:sec.audit');
    expect(await sinks[0]!.export([auditEvent('p', 1)])).toEqual({ ok: true });
    expect(segments(join(dataDir, 'spool'))).toHaveLength(1);
    await sinks[0]!.shutdown();
  });

  it('throws PluginOptionsError with the key path for bad options', async () => {
    const sinks: AuditSink[] = [];
    await expect(Promise.resolve().then(() => plugin.register(context({ brokers: ['127.0.0.1:1'], format: 'xml' }, freshDir(), sinks))))
      .rejects.toEqual(expect.objectContaining({ name: 'PluginOptionsError', path: ['format'] }));
    await expect(Promise.resolve().then(() => plugin.register(context(undefined, freshDir(), sinks)))).rejects.toBeInstanceOf(PluginOptionsError);
    expect(sinks).toHaveLength(0);
  });
});
