import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  definePlugin, Gateway, GatewayError, parseConfig, RecordingStore, silentLogger, verifyLines, Verdicts,
  type GatewaySession, type QuerygatePlugin, type RecordingRecord, type ResultColumn, type RowTransform,
} from '../src';
import { statement } from './fixtures';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'qg-rec-'));
  dirs.push(dir);
  return dir;
}

// A small masking plugin (a real interceptor, not a mock): masks column `email`, denies `drop`.
const masker: QuerygatePlugin = definePlugin({
  name: 'masker',
  register(ctx) {
    ctx.addInterceptor({
      name: 'masker',
      onStatement: (s) => (s.command === 'drop_table' ? Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', 'no drops', { rule: 'no-drop' })) : undefined),
      onResult: (result) => {
        const i = result.columns.findIndex((c) => c.name === 'email');
        return i < 0 ? undefined : { columns: new Map([[i, () => '***@***']]), label: 'masking' };
      },
    });
  },
});

async function gateway(recording: string) {
  const dir = tempDir();
  const loaded = parseConfig(`
gateway: { dataDir: ${dir}, id: gw-test }
listeners:
  - { name: pg, protocol: postgres, listen: 127.0.0.1:1, upstream: { host: 127.0.0.1, port: 5432, user: app } }
identities:
  users: [ { name: alice, password: "\${env:PW}", groups: [dev] } ]
audit: { sinks: [] }
recording: { dir: ${dir}/rec, ${recording} }
plugins: [ { use: masker } ]
`, join(dir, 'gw.yaml'), { env: { PW: 'pw' } });
  const gw = await Gateway.create({ config: loaded.config, loadPlugin: async () => masker, logger: silentLogger });
  const runtime = gw.listenerRuntime(loaded.config.listeners[0]!);
  const open = (id: string): Promise<GatewaySession> => runtime.openSession({
    id, identity: gw.identities.localUser('alice')!.identity, database: 'app', clientAddress: '127.0.0.1:4000',
    clientParameters: { user: 'alice', application_name: 'psql' }, tls: false,
  });
  return { gw, open, dir: join(dir, 'rec') };
}

const columns = (...names: string[]): ResultColumn[] => names.map((name) => ({ name, type: 'text', typeId: 25, format: 'text' }));

/** What an adapter does with a plan: apply masks, then hand up to observeLimit rows to observe. */
function deliver(plan: RowTransform | undefined, rows: (string | null)[][]): (string | null)[][] {
  const sent: (string | null)[][] = [];
  rows.forEach((row, r) => {
    const out = row.map((v, i) => {
      const mask = plan?.columns.get(i);
      return v === null || !mask ? v : mask(v);
    });
    if (plan?.observe && r < (plan.observeLimit ?? 0)) plan.observe(out);
    sent.push(out);
  });
  return sent;
}

function records(file: string): RecordingRecord[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RecordingRecord);
}

async function recordedSession(recording = 'maxRowsPerResult: 2') {
  const { gw, open, dir } = await gateway(recording);
  const gs = await open('sess-a');
  const select = statement("select id, email from users where name = 'bob'", {
    normalized: 'select id, email from users where name = $1', fingerprint: 'fp1',
  });
  expect(gs.hasResultHooks).toBe(true);
  expect(gs.judge([select], { via: 'simple' })).toEqual({ action: 'allow' });
  const plan = gs.planResult({ statement: select, columns: columns('id', 'email'), source: 'rows' }, { via: 'simple' }) as RowTransform;
  deliver(plan, [['1', 'bob@example.com'], ['2', null], ['3', 'carol@example.com']]);
  gs.complete(select, { rows: 3, durationMs: 4, masked: { columns: ['email'], values: 2 } }, { via: 'simple' });
  const drop = statement('drop table users', { command: 'drop_table', kind: 'ddl' });
  expect(gs.judge([drop], { via: 'simple' })).toMatchObject({ action: 'deny' });
  gs.recordEvent({ kind: 'notice', message: 'relation "t" already exists, skipping', code: '42P07' });
  await gs.end('client_closed');
  await gw.shutdown();
  return { dir, file: join(dir, 'sess-a.jsonl') };
}

describe('session recording', () => {
  it('writes a chained recording of statements, verdicts, masked rows, completions and the end', async () => {
    const { file } = await recordedSession();
    const recs = records(file);
    expect(recs.map((r) => r.type)).toEqual(['session', 'statement', 'verdict', 'result', 'complete', 'statement', 'verdict', 'event', 'end']);
    expect(recs[0]).toMatchObject({
      type: 'session', format: 1, sessionId: 'sess-a', gateway: 'gw-test', protocol: 'postgres', listener: 'pg', database: 'app',
      identity: { subject: 'alice', groups: ['dev'], method: 'local' }, clientParameters: { application_name: 'psql' },
      statementText: 'normalized', maxRowsPerResult: 2,
    });
    // Normalised text by default: the literal 'bob' is not in the recording.
    expect(recs[1]).toMatchObject({ type: 'statement', n: 1, text: 'select id, email from users where name = $1', fingerprint: 'fp1', via: 'simple' });
    expect(recs[3]).toMatchObject({
      type: 'result', n: 1, columns: ['id', 'email'], rows: [['1', '***@***'], ['2', null]], truncated: true, plan: 'masking', masked: [1],
    });
    expect(recs[4]).toMatchObject({ type: 'complete', n: 1, rows: 3, durationMs: 4, masked: { columns: ['email'], values: 2 } });
    expect(recs[6]).toMatchObject({ type: 'verdict', n: 2, verdict: 'deny', rule: 'no-drop', error: { code: 'QG_STATEMENT_DENIED' } });
    expect(recs[7]).toMatchObject({ type: 'event', kind: 'notice', code: '42P07' });
    expect(recs[8]).toMatchObject({ type: 'end', reason: 'client_closed', statements: 2, denied: 1, dropped: 0 });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('bob@example.com');
    expect(text).not.toContain('carol');
    expect(text).not.toContain("'bob'");
    const result = verifyLines(text.split('\n'));
    expect(result).toMatchObject({ intact: true, complete: true, records: 9, problems: [] });
  });

  it('records the raw statement text and parameters with statementText: raw', async () => {
    const { gw, open } = await gateway('statementText: raw');
    const gs = await open('sess-raw');
    const s = statement("select * from t where a = 'x' and b = $1", { normalized: 'select * from t where a = $1 and b = $2' });
    gs.judge([s], { via: 'execute', parameters: ['42'] });
    gs.complete(s, { rows: 0, durationMs: 1 }, { via: 'execute' });
    await gs.end('client_closed');
    await gw.shutdown();
    const recs = records(join(gw.recorder!.dir, 'sess-raw.jsonl'));
    expect(recs[1]).toMatchObject({ type: 'statement', text: "select * from t where a = 'x' and b = $1", parameters: ['42'], via: 'execute' });
  });

  it('does not decode rows when recording is off (no observer, plan unchanged)', async () => {
    const dir = tempDir();
    const loaded = parseConfig(`
gateway: { dataDir: ${dir} }
listeners:
  - { name: pg, protocol: postgres, listen: 127.0.0.1:1, upstream: { host: 127.0.0.1, port: 5432, user: app } }
identities: { users: [ { name: alice, password: "\${env:PW}" } ] }
audit: { sinks: [] }
`, join(dir, 'gw.yaml'), { env: { PW: 'pw' } });
    const gw = await Gateway.create({ config: loaded.config, loadPlugin: async () => masker, logger: silentLogger });
    const gs = await gw.listenerRuntime(loaded.config.listeners[0]!).openSession({
      id: 's-off', identity: gw.identities.localUser('alice')!.identity, database: 'app', clientAddress: 'x', clientParameters: {}, tls: false,
    });
    expect(gw.recorder).toBeUndefined();
    expect(gs.hasResultHooks).toBe(false);
    expect(gs.planResult({ statement: statement('select 1'), columns: columns('a'), source: 'rows' }, { via: 'simple' })).toBeUndefined();
    await gw.shutdown();
    expect(readdirSync(dir).filter((n) => n.endsWith('.jsonl'))).toEqual([]);
  });

  it('tracks nested statements and the statements of a refused message', async () => {
    const { gw, open } = await gateway('maxRowsPerResult: 5');
    const gs = await open('sess-nested');
    const inner = statement('drop table x', { command: 'drop_table', kind: 'ddl' });
    const outer = statement('do $$ drop table x $$', { command: 'do', kind: 'procedural', nested: [inner] });
    expect(gs.judge([statement('select 1'), outer], { via: 'simple' })).toMatchObject({ action: 'deny' });
    await gs.end('client_closed');
    await gw.shutdown();
    const recs = records(join(gw.recorder!.dir, 'sess-nested.jsonl'));
    const statements = recs.filter((r) => r.type === 'statement');
    expect(statements.map((r) => [r.n, r.parent])).toEqual([[1, undefined], [2, undefined], [3, 2]]);
    expect(verifyLines(readFileSync(join(gw.recorder!.dir, 'sess-nested.jsonl'), 'utf8').split('\n')).complete).toBe(true);
  });
});

describe('recording hash chain', () => {
  let text: string;
  beforeAll(async () => {
    const { file } = await recordedSession();
    text = readFileSync(file, 'utf8');
  });
  const lines = (): string[] => text.split('\n');

  it('verifies an untouched recording', () => {
    expect(verifyLines(lines())).toMatchObject({ intact: true, complete: true });
  });

  it('detects one byte changed anywhere: in a value, in the JSON layout, in a hash', () => {
    const original = lines();
    // Every byte of a result line, one at a time (a changed byte either breaks its hash or the link).
    const target = original.findIndex((l) => l.includes('"type":"result"'));
    const line = original[target]!;
    for (let at = 0; at < line.length; at++) {
      const code = line.charCodeAt(at);
      const changed = line.slice(0, at) + String.fromCharCode(code === 0x30 ? 0x31 : code === 0x20 ? 0x21 : code ^ 0x01) + line.slice(at + 1);
      const copy = [...original];
      copy[target] = changed;
      const result = verifyLines(copy);
      expect(result.intact).toBe(false);
      expect(result.problems[0]!.line).toBe(target + 1);
    }
    // A space added inside the JSON keeps it equivalent but not the same bytes.
    const copy = [...original];
    copy[2] = copy[2]!.replace('{"seq"', '{ "seq"');
    expect(verifyLines(copy)).toMatchObject({ intact: false, problems: [{ line: 3, message: expect.stringMatching(/hash mismatch/) }] });
  });

  it('detects a removed line, an inserted line and two lines swapped', () => {
    const original = lines();
    const removed = [...original];
    removed.splice(3, 1);
    const result = verifyLines(removed);
    expect(result.intact).toBe(false);
    expect(result.problems[0]).toEqual({ line: 4, message: expect.stringMatching(/does not follow/) });
    expect(result.problems).toHaveLength(2); // the broken link and the sequence gap, nothing after
    const swapped = [...original];
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    expect(verifyLines(swapped).intact).toBe(false);
    const inserted = [...original];
    inserted.splice(2, 0, original[2]!);
    expect(verifyLines(inserted).intact).toBe(false);
    const header = [...original];
    header.shift();
    expect(verifyLines(header).intact).toBe(false);
  });

  it('reports a recording cut at the end as intact but not complete', () => {
    const cut = lines().filter((l) => l !== '').slice(0, -1);
    expect(verifyLines(cut)).toMatchObject({ intact: true, complete: false });
    const torn = [...cut.slice(0, -1), cut[cut.length - 1]!.slice(0, 20)];
    expect(verifyLines(torn)).toMatchObject({ intact: false });
  });
});

describe('RecordingStore', () => {
  it('lists, reads and verifies recordings; rejects ids that would leave the directory', async () => {
    const { dir, file } = await recordedSession();
    const store = new RecordingStore(dir);
    const list = await store.list();
    expect(list).toEqual([expect.objectContaining({
      id: 'sess-a', protocol: 'postgres', listener: 'pg', database: 'app', subject: 'alice', ended: true, endReason: 'client_closed', statements: 2, denied: 1,
    })]);
    const recording = await store.read('sess-a');
    expect(recording.header.sessionId).toBe('sess-a');
    expect(recording.records).toHaveLength(9);
    expect(await store.verify('sess-a')).toMatchObject({ intact: true, complete: true });
    await expect(store.read('../etc/passwd')).rejects.toThrow(/no recording/);
    await expect(store.read('nosuch')).rejects.toThrow(/no recording/);
    writeFileSync(file, readFileSync(file, 'utf8').replace('***@***', '***@**#'));
    expect(await store.verify('sess-a')).toMatchObject({ intact: false });
  });
});
