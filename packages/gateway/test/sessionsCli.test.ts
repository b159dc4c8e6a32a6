// `querygate sessions list|verify` and `querygate replay` on a recording the core writes (a
// Gateway with recording.dir, driven the way an adapter drives it).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  definePlugin, Gateway, parseConfig, silentLogger,
  type QuerygatePlugin, type ResultColumn, type RowTransform, type Statement,
} from '@querygate/core';
import { run as replay } from '../src/commands/replay';
import { run as sessions } from '../src/commands/sessions';
import type { CommandIo } from '../src/commands/io';

const root = mkdtempSync(join(tmpdir(), 'qg-sessions-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function statement(text: string, overrides: Partial<Statement> = {}): Statement {
  return {
    text, kind: 'select', command: 'select', fingerprint: `fp:${text}`, normalized: text,
    reads: [], writes: [], functions: [], risks: new Set(), lineage: { outputs: [], complete: true }, ...overrides,
  };
}

const masking: QuerygatePlugin = definePlugin({
  name: 'masking',
  register(ctx) {
    ctx.addInterceptor({
      name: 'masking',
      onResult: (r) => {
        const i = r.columns.findIndex((c) => c.name === 'email');
        return i < 0 ? undefined : { columns: new Map([[i, (v: string) => v.replace(/^[^@]+/, '***')]]), label: 'masking' };
      },
    });
  },
});

class Capture implements CommandIo {
  stdout = '';
  stderr = '';
  waits: number[] = [];
  out(text: string): void { this.stdout += text; }
  err(text: string): void { this.stderr += text; }
  async sleep(ms: number): Promise<void> { this.waits.push(ms); }
}

const dir = join(root, 'recordings');
const configFile = join(root, 'querygate.yaml');

beforeAll(async () => {
  const yaml = `
gateway: { dataDir: ./data, id: cli-test }
listeners:
  - { name: pg, protocol: postgres, listen: 127.0.0.1:1, upstream: { host: 127.0.0.1, port: 5432, user: app, password: "\${env:NOT_SET_IN_THIS_SHELL}" } }
identities: { users: [ { name: alice, password: "\${env:ALICE_PW}", groups: [dev] } ] }
audit: { sinks: [] }
recording: { dir: ./recordings, maxRowsPerResult: 10 }
plugins: [ { use: masking } ]
`;
  writeFileSync(configFile, yaml);
  const { config } = parseConfig(yaml, configFile, { env: { ALICE_PW: 'pw', NOT_SET_IN_THIS_SHELL: 'x' } });
  const gw = await Gateway.create({ config, loadPlugin: async () => masking, logger: silentLogger });
  const runtime = gw.listenerRuntime(config.listeners[0]!);
  const identity = gw.identities.localUser('alice')!.identity;
  for (const id of ['first', 'second']) {
    const gs = await runtime.openSession({ id, identity, database: 'app', clientAddress: '127.0.0.1:5000', clientParameters: { application_name: 'psql' }, tls: false });
    const s = statement('select id, email from users');
    gs.judge([s], { via: 'simple' });
    const columns: ResultColumn[] = ['id', 'email'].map((name) => ({ name, type: 'text', typeId: 25, format: 'text' }));
    const plan = gs.planResult({ statement: s, columns, source: 'rows' }, { via: 'simple' }) as RowTransform;
    for (const row of [['1', 'ann@example.com'], ['2', null]]) {
      plan.observe!(row.map((v, i) => (v === null ? null : plan.columns.get(i)?.(v) ?? v)));
    }
    await new Promise((r) => setTimeout(r, 30));
    gs.complete(s, { rows: 2, durationMs: 3, masked: { columns: ['email'], values: 1 } }, { via: 'simple' });
    await gs.end('client_closed');
  }
  await gw.shutdown();
});

describe('querygate sessions list', () => {
  it('lists recordings from --dir, newest first', async () => {
    const io = new Capture();
    expect(await sessions(['list', '--dir', dir], io)).toBe(0);
    const lines = io.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SESSION\s+STARTED\s+IDENTITY\s+LISTENER\s+DATABASE\s+STATEMENTS\s+DENIED\s+DURATION\s+STATUS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(['second', 'first']);
    expect(lines[1]).toMatch(/alice\s+pg\/postgres\s+app\s+1\s+0\s+\d+ms\s+client_closed/);
  });

  it('takes recording.dir from --config (secrets this shell lacks do not matter) and prints JSON', async () => {
    const io = new Capture();
    expect(await sessions(['list', '--config', configFile, '--json'], io)).toBe(0);
    const list = JSON.parse(io.stdout) as { id: string; subject: string; ended: boolean }[];
    expect(list.map((s) => s.id).sort()).toEqual(['first', 'second']);
    expect(list[0]).toMatchObject({ subject: 'alice', ended: true });
  });

  it('needs --dir or --config', async () => {
    const io = new Capture();
    expect(await sessions(['list'], io)).toBe(2);
    expect(io.stderr).toMatch(/--dir DIR or --config FILE is required/);
  });
});

describe('querygate sessions verify', () => {
  it('verifies one session, all sessions, and a file given by path', async () => {
    let io = new Capture();
    expect(await sessions(['verify', 'first', '--dir', dir], io)).toBe(0);
    expect(io.stdout).toMatch(/^OK\s+first\s+\d+ records/);
    io = new Capture();
    expect(await sessions(['verify', '--all', '--dir', dir], io)).toBe(0);
    expect(io.stdout.trim().split('\n')).toHaveLength(2);
    expect(io.stderr).toBe('2 ok, 0 open, 0 failed\n');
    io = new Capture();
    expect(await sessions(['verify', join(dir, 'second.jsonl')], io)).toBe(0);
  });

  it('fails (exit 1) on a changed byte and names the line; reports a missing session', async () => {
    const tamperedDir = join(root, 'tampered');
    const copy = readFileSync(join(dir, 'first.jsonl'), 'utf8').replace('"***@example.com"', '"ann@example.com"');
    mkdirSync(tamperedDir, { recursive: true });
    writeFileSync(join(tamperedDir, 'first.jsonl'), copy);
    writeFileSync(join(tamperedDir, 'second.jsonl'), readFileSync(join(dir, 'second.jsonl')));
    const io = new Capture();
    expect(await sessions(['verify', '--all', '--dir', tamperedDir], io)).toBe(1);
    expect(io.stdout).toMatch(/^TAMPERED\s+first\s+line \d+: hash mismatch/m);
    expect(io.stdout).toMatch(/^OK\s+second/m);
    const missing = new Capture();
    expect(await sessions(['verify', 'nosuch', '--dir', dir], missing)).toBe(1);
    expect(missing.stdout).toMatch(/^MISSING\s+nosuch/);
  });
});

describe('querygate replay', () => {
  it('prints a readable transcript without waiting at --speed 0', async () => {
    const io = new Capture();
    expect(await replay(['first', '--speed', '0', '--dir', dir], io)).toBe(0);
    expect(io.waits).toEqual([]);
    const text = io.stdout;
    expect(text).toContain('session first on gateway cli-test');
    expect(text).toMatch(/alice \[local, groups dev\] -> pg\/app \(postgres\) from 127\.0\.0\.1:5000 \(psql\)/);
    expect(text).toMatch(/\[00:00\.\d{3}\]\s+#1 select \(simple\)\n\s+select id, email from users/);
    expect(text).toMatch(/ALLOW #1/);
    expect(text).toMatch(/result #1: 2 rows · masking \(\* = masked\)\n\s+id \| email\*\n\s+-+-\+-+\n\s+1\s+\| \*\*\*@example\.com\n\s+2\s+\| NULL/);
    expect(text).toMatch(/done #1: 2 rows in 3 ms · masked 1 value in email/);
    expect(text).toMatch(/session ended \(client_closed\) after \d+ ms: 1 statement, 0 denied/);
    expect(text).not.toContain('ann@');
  });

  it('sleeps the recorded gaps scaled by --speed', async () => {
    const slow = new Capture();
    expect(await replay(['first', '--dir', dir], slow)).toBe(0);
    const fast = new Capture();
    expect(await replay(['first', '--speed', '10', '--dir', dir], fast)).toBe(0);
    const total = (w: number[]): number => w.reduce((a, b) => a + b, 0);
    // The session waited ~30 ms between the result and its completion.
    expect(total(slow.waits)).toBeGreaterThanOrEqual(25);
    expect(total(fast.waits)).toBeCloseTo(total(slow.waits) / 10, 5);
  });

  it('warns and exits 1 for a tampered recording; exits 1 for an unknown session; 2 for a bad --speed', async () => {
    const io = new Capture();
    expect(await replay(['first', '--speed', '0', '--dir', join(root, 'tampered')], io)).toBe(1);
    expect(io.stderr).toMatch(/warning: this recording fails verification at line \d+/);
    const unknown = new Capture();
    expect(await replay(['nosuch', '--dir', dir], unknown)).toBe(1);
    expect(unknown.stderr).toMatch(/no recording for session "nosuch"/);
    expect(await replay(['first', '--speed', 'fast', '--dir', dir], new Capture())).toBe(2);
  });
});
