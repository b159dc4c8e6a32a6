import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  definePlugin, Gateway, parseConfig, Pipeline, silentLogger, tracedInterceptor,
  type ErrorContext, type Interceptor, type QuerygatePlugin, type ServerError,
} from '../src';
import { session, statement } from './fixtures';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function context(): ErrorContext {
  return { session: session(), via: 'simple', signal: new AbortController().signal, statement: statement('select email::int from users') };
}

const castError: ServerError = { code: '22P02', message: 'invalid input syntax for type integer: "alice@example.com"', detail: 'd', where: 'w' };

/** Replaces `from` with `to` in every text field (a real, tiny redactor). */
const replacing = (name: string, from: string, to: string, log?: string[]): Interceptor => ({
  name,
  onError(error) {
    log?.push(name);
    const r = (t: string | undefined): string | undefined => t?.split(from).join(to);
    return { message: r(error.message)!, detail: r(error.detail), hint: r(error.hint), where: r(error.where) };
  },
});

describe('Pipeline.redactError', () => {
  it('returns the very same error when no hook changes it', () => {
    const p = new Pipeline([{ name: 'none' }, { name: 'keep', onError: () => undefined }, replacing('noop', 'zzz', 'y')], { hookTimeoutMs: 100 }, silentLogger);
    expect(p.hasErrorHooks).toBe(true);
    expect(p.redactError(castError, context())).toBe(castError);
    expect(new Pipeline([{ name: 'none' }], { hookTimeoutMs: 100 }, silentLogger).hasErrorHooks).toBe(false);
  });

  it('runs hooks in reverse order, each on the previous text, and never changes the code', () => {
    const log: string[] = [];
    const p = new Pipeline([replacing('a', 'XX', 'done', log), replacing('b', 'alice@example.com', 'XX', log)], { hookTimeoutMs: 100 }, silentLogger);
    const out = p.redactError(castError, context());
    expect(log).toEqual(['b', 'a']);
    expect(out).toEqual({ code: '22P02', message: 'invalid input syntax for type integer: "done"', detail: 'd', hint: undefined, where: 'w' });
  });

  it('drops a field the answer leaves out', () => {
    const p = new Pipeline([{ name: 'm', onError: (e) => ({ message: e.message.toUpperCase() }) }], { hookTimeoutMs: 100 }, silentLogger);
    const out = p.redactError(castError, context());
    expect(out.detail).toBeUndefined();
    expect(out.where).toBeUndefined();
  });

  it('withholds the whole text when a hook throws or answers asynchronously (fail closed)', () => {
    const throwing: Interceptor = { name: 'boom', onError() { throw new Error('bug'); } };
    const later = { name: 'later', onError: async () => ({ message: 'x' }) } as unknown as Interceptor;
    for (const hook of [throwing, later]) {
      const out = new Pipeline([hook], { hookTimeoutMs: 100 }, silentLogger).redactError(castError, context());
      expect(out.code).toBe('22P02');
      expect(JSON.stringify(out)).not.toContain('alice');
      expect(out.message).toContain(hook.name);
      expect(out.detail ?? out.where ?? out.hint).toBeUndefined();
    }
  });

  it('survives tracing: the traced copy of an interceptor keeps its error hook', () => {
    const traced = tracedInterceptor(replacing('t', 'alice@example.com', '****'));
    expect(traced.onError?.(castError, context())?.message).toBe('invalid input syntax for type integer: "****"');
  });
});

describe('GatewaySession.redactError and completions', () => {
  const plugin: QuerygatePlugin = definePlugin({
    name: 'redactor',
    register(ctx) { ctx.addInterceptor(replacing('redactor', 'alice@example.com', '****')); },
  });

  it('redacts what the adapter forwards, and the audit event and recording of a failed statement', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qg-errhook-'));
    dirs.push(dir);
    const loaded = parseConfig(`
gateway: { dataDir: ${dir}, id: gw-test }
listeners:
  - { name: pg, protocol: postgres, listen: 127.0.0.1:1, upstream: { host: 127.0.0.1, port: 5432, user: app } }
identities:
  users: [ { name: alice, password: "\${env:PW}", groups: [dev] } ]
audit: { sinks: [ { type: file, path: ${dir}/audit.jsonl } ] }
recording: { dir: ${dir}/rec }
plugins: [ { use: redactor } ]
`, join(dir, 'gw.yaml'), { env: { PW: 'pw' } });
    const gw = await Gateway.create({ config: loaded.config, loadPlugin: async () => plugin, logger: silentLogger });
    const runtime = gw.listenerRuntime(loaded.config.listeners[0]!);
    const gs = await runtime.openSession({
      id: 's1', identity: gw.identities.localUser('alice')!.identity, database: 'app', clientAddress: '127.0.0.1:4000',
      clientParameters: { user: 'alice' }, tls: false,
    });
    const s = statement('select email::int from users');
    expect(gs.judge([s], { via: 'simple' })).toEqual({ action: 'allow' });
    const forwarded = gs.redactError(s, castError, { via: 'simple' });
    expect(forwarded.message).toBe('invalid input syntax for type integer: "****"');
    const clean: ServerError = { code: '42P01', message: 'relation "x" does not exist' };
    expect(gs.redactError(undefined, clean)).toBe(clean);
    // An adapter that did not redact: complete() still keeps the value out of audit and recording.
    gs.complete(s, { durationMs: 1, error: { code: castError.code, message: castError.message } }, { via: 'simple' });
    await gs.end('client_closed');
    await gw.shutdown();
    const audit = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    expect(audit).toContain('integer: \\"****\\"');
    const recordings = readdirSync(join(dir, 'rec')).map((f) => readFileSync(join(dir, 'rec', f), 'utf8')).join('\n');
    expect(recordings).toContain('"code":"22P02"');
    expect(`${audit}${recordings}`).not.toContain('alice@example.com');
  });
});
