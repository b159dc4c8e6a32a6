import { GatewayError, Pipeline, silentLogger, Verdicts, type Interceptor, type ResultSet, type StatementContext, type ValueMask, type Verdict } from '../src';
import { session, statement } from './fixtures';

function context(signal = new AbortController().signal): StatementContext {
  return { session: session(), via: 'simple', signal };
}

function pipeline(interceptors: Interceptor[], hookTimeoutMs = 200): Pipeline {
  return new Pipeline(interceptors, { hookTimeoutMs }, silentLogger);
}

const recorder = (name: string, log: string[], verdict: () => Verdict | Promise<Verdict> = () => Verdicts.allow()): Interceptor => ({
  name,
  onStatement() { log.push(name); return verdict(); },
  onResult() { log.push(`result:${name}`); return undefined; },
});

describe('Pipeline', () => {
  it('runs statement hooks in configured order', () => {
    const log: string[] = [];
    const result = pipeline([recorder('a', log), recorder('b', log), recorder('c', log)]).judge(statement('select 1'), context());
    expect(result).toEqual({ action: 'allow' });
    expect(log).toEqual(['a', 'b', 'c']);
  });

  it('stays synchronous when every hook answers synchronously', () => {
    const result = pipeline([recorder('a', [])]).judge(statement('select 1'), context());
    expect(result).not.toBeInstanceOf(Promise);
  });

  it('runs result hooks in reverse order', async () => {
    const log: string[] = [];
    const p = pipeline([recorder('a', log), recorder('b', log), recorder('c', log)]);
    const result: ResultSet = { statement: statement('select 1'), columns: [], source: 'rows' };
    await p.planResult(result, context());
    expect(log).toEqual(['result:c', 'result:b', 'result:a']);
  });

  it('stops at the first deny', () => {
    const log: string[] = [];
    const denial = new GatewayError('QG_STATEMENT_DENIED', 'no', { rule: 'r1' });
    const result = pipeline([
      recorder('a', log),
      recorder('b', log, () => Verdicts.deny(denial)),
      recorder('c', log),
    ]).judge(statement('drop table t'), context());
    expect(result).toEqual({ action: 'deny', error: denial });
    expect(log).toEqual(['a', 'b']);
  });

  it('stops at the first deny on the async path too', async () => {
    const log: string[] = [];
    const result = await pipeline([
      recorder('a', log, async () => Verdicts.allow()),
      recorder('b', log, async () => Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED'))),
      recorder('c', log),
    ]).judge(statement('x'), context());
    expect(result.action).toBe('deny');
    expect(log).toEqual(['a', 'b']);
  });

  it('denies (fail closed) when a hook throws', () => {
    const result = pipeline([{ name: 'broken', onStatement() { throw new Error('boom'); } }]).judge(statement('x'), context());
    expect(result).toMatchObject({ action: 'deny' });
    expect((result as { error: GatewayError }).error.code).toBe('QG_HOOK_FAILED');
    expect((result as { error: GatewayError }).error.rule).toBe('broken');
  });

  it('denies (fail closed) when a hook rejects', async () => {
    const result = await pipeline([{ name: 'broken', onStatement: async () => { throw new Error('boom'); } }]).judge(statement('x'), context());
    expect((result as { error: GatewayError }).error.code).toBe('QG_HOOK_FAILED');
  });

  it('denies (fail closed) when a hook times out', async () => {
    const started = Date.now();
    const result = await pipeline([{ name: 'slow', onStatement: () => new Promise<Verdict>(() => undefined) }], 50).judge(statement('x'), context());
    expect((result as { error: GatewayError }).error.code).toBe('QG_HOOK_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a later hook that times out still denies after earlier async hooks allowed', async () => {
    const result = await pipeline([
      { name: 'ok', onStatement: async () => Verdicts.allow() },
      { name: 'slow', onStatement: () => new Promise<Verdict>(() => undefined) },
    ], 50).judge(statement('x'), context());
    expect((result as { error: GatewayError }).error.code).toBe('QG_HOOK_TIMEOUT');
  });

  it('a hold pauses until its decision and then runs the remaining hooks', async () => {
    const log: string[] = [];
    let approve!: () => void;
    const decision = new Promise<{ action: 'allow' }>((resolve) => { approve = () => resolve(Verdicts.allow()); });
    const held: string[] = [];
    const judged = pipeline([
      recorder('guard', log, () => Verdicts.hold(decision, { notice: 'waiting', rule: 'ddl' })),
      recorder('after', log),
    ]).judge(statement('alter table t add c int'), context(), (hold, by) => held.push(`${by}:${hold.notice}`));
    expect(judged).toBeInstanceOf(Promise);
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['guard']);
    expect(held).toEqual(['guard:waiting']);
    approve();
    await expect(judged).resolves.toEqual({ action: 'allow' });
    expect(log).toEqual(['guard', 'after']);
  });

  it('a hold is not bounded by the hook timeout', async () => {
    const decision = new Promise<{ action: 'allow' }>((resolve) => setTimeout(() => resolve(Verdicts.allow()), 120));
    const judged = await pipeline([{ name: 'guard', onStatement: () => Verdicts.hold(decision) }], 30).judge(statement('x'), context());
    expect(judged).toEqual({ action: 'allow' });
  });

  it('a held statement is cancelled when the session aborts', async () => {
    const controller = new AbortController();
    const cancelled: string[] = [];
    const judged = pipeline([{
      name: 'guard',
      onStatement: () => Verdicts.hold(new Promise(() => undefined), { cancel: (why) => cancelled.push(why) }),
    }]).judge(statement('x'), context(controller.signal));
    controller.abort();
    const result = await judged;
    expect(result.action).toBe('deny');
    expect(cancelled).toHaveLength(1);
  });

  it('a denied hold decision denies', async () => {
    const result = await pipeline([{
      name: 'guard',
      onStatement: () => Verdicts.hold(Promise.resolve(Verdicts.deny(new GatewayError('QG_APPROVAL_DENIED', 'no: reason')))),
    }]).judge(statement('x'), context());
    expect((result as { error: GatewayError }).error.code).toBe('QG_APPROVAL_DENIED');
  });

  it('composes result plans, applying masks in reverse hook order', async () => {
    const upper: Interceptor = { name: 'upper', onResult: () => ({ columns: new Map([[0, (v: string) => v.toUpperCase()]]) }) };
    const suffix: Interceptor = { name: 'suffix', onResult: () => ({ columns: new Map<number, ValueMask>([[0, (v: string) => `${v}!`], [1, () => null]]) }) };
    const result: ResultSet = { statement: statement('select a, b'), columns: [], source: 'rows' };
    const plan = await pipeline([upper, suffix]).planResult(result, context());
    // suffix is configured last, so its result hook runs first; upper then sees its output.
    expect(plan!.columns.get(0)!('ab')).toBe('AB!');
    expect(plan!.columns.get(1)!('x')).toBeNull();
  });

  it('a result hook that throws fails closed (the result is refused)', async () => {
    const p = pipeline([{ name: 'bad', onResult() { throw new Error('x'); } }]);
    const result: ResultSet = { statement: statement('select 1'), columns: [], source: 'rows' };
    expect(() => p.planResult(result, context())).toThrow(GatewayError);
  });

  it('onSessionStart can refuse a session', async () => {
    const p = pipeline([{ name: 'gate', onSessionStart: () => Verdicts.deny(new GatewayError('QG_ACCESS_DENIED')) }]);
    await expect(p.startSession(session())).resolves.toMatchObject({ action: 'deny' });
  });

  it('errors in after-the-fact hooks are logged, not thrown', async () => {
    const p = pipeline([{ name: 'x', onSessionEnd: () => { throw new Error('late'); } }]);
    await expect(p.complete((h) => h.onSessionEnd!(session(), { statements: 0, denied: 0, durationMs: 0, reason: 'client_closed' }), 'onSessionEnd')).resolves.toBeUndefined();
  });
});
