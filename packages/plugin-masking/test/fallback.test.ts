import { GatewayError, type Deny } from '@querygate/core';
import { BASE_OPTIONS, col, context, loadMasking, orders, out, readsOrders, readsUsers, result, session, stmt, users } from './fixtures';

const lost = stmt('SELECT * FROM user_report()', { reads: readsUsers, complete: false, functions: ['user_report'] });

describe('fallback: refuse (the default)', () => {
  it('denies up front when lineage is incomplete for a statement reading a sensitive table', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const verdict = masking.onStatement(lost, context()) as Deny;
    expect(verdict.action).toBe('deny');
    expect(verdict.error).toBeInstanceOf(GatewayError);
    expect(verdict.error.code).toBe('QG_MASKING_UNRESOLVED');
    expect(verdict.error.message).toMatch(/public\.users/);
    expect(verdict.error.message).toMatch(/could not follow every output column/);
    expect(verdict.error.rule).toBe('emails');
  });

  it('allows incomplete lineage when nothing sensitive is read, masking by origin', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = stmt('SELECT * FROM report()', { reads: readsOrders, complete: false });
    expect(masking.onStatement(s, context())).toBeUndefined();
    expect(masking.onResult(result(s, [col('id', 'int4', orders('id'))]), context())).toBeUndefined();
  });

  it('fallbackScope all refuses any statement with incomplete lineage', async () => {
    const masking = await loadMasking({ ...BASE_OPTIONS, fallbackScope: 'all' });
    const s = stmt('SELECT * FROM report()', { reads: readsOrders, complete: false });
    expect(masking.onStatement(s, context())).toMatchObject({ action: 'deny', error: { code: 'QG_MASKING_UNRESOLVED' } });
  });

  it('refuses the result when its columns cannot be aligned with the lineage', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = stmt('SELECT email FROM users', { reads: readsUsers, outputs: [out([users('email')], { direct: true })] });
    expect(masking.onStatement(s, context())).toBeUndefined();
    const twoColumns = result(s, [col('a'), col('b')]);
    expect(() => masking.onResult(twoColumns, context())).toThrow(expect.objectContaining({ code: 'QG_MASKING_UNRESOLVED' }) as unknown as Error);
    expect(() => masking.onResult(twoColumns, context())).toThrow(/could not be matched/);
  });

  it('refuses when a direct entry disagrees with the database origin', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = stmt('SELECT name FROM users', { reads: readsUsers, outputs: [out([users('name')], { direct: true })] });
    expect(() => masking.onResult(result(s, [col('x', 'text', users('id'))]), context())).toThrow(GatewayError);
  });

  it('exempt sessions are never refused', async () => {
    const masking = await loadMasking({ ...BASE_OPTIONS, exempt: { groups: ['dba'] } });
    const dba = context(session({ groups: ['dba'] }));
    expect(masking.onStatement(lost, dba)).toBeUndefined();
    expect(masking.onResult(result(lost, [col('email', 'text')]), dba)).toBeUndefined();
  });
});

describe('fallback: redact-all', () => {
  it('lets the statement run and redacts every column of its results', async () => {
    const masking = await loadMasking({ ...BASE_OPTIONS, fallback: 'redact-all' });
    expect(masking.onStatement(lost, context())).toBeUndefined();
    const plan = masking.onResult(result(lost, [col('id', 'int4'), col('note'), col('when', 'date')]), context())!;
    expect([0, 1, 2].map((i) => plan.columns.get(i)!('v'))).toEqual(['0', '****', '1970-01-01']);
    expect(plan.decisions.every((d) => d.reason === 'fallback')).toBe(true);
    expect(plan.covers).toEqual(['id', 'note', 'when']);
  });
  it('also for alignment failures', async () => {
    const masking = await loadMasking({ ...BASE_OPTIONS, fallback: 'redact-all' });
    const s = stmt('SELECT email FROM users', { reads: readsUsers, outputs: [out([users('email')], { direct: true })] });
    expect(masking.onResult(result(s, [col('a'), col('b')]), context())?.columns.size).toBe(2);
  });
});

describe('rows that come back under another statement', () => {
  it('a cursor declared over a sensitive table makes later lineage-less results fall back', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const ctx = context();
    const declare = stmt('DECLARE c CURSOR FOR SELECT lower(email) FROM users', {
      kind: 'utility', command: 'declare_cursor', reads: readsUsers, outputs: [out([users('email')])],
    });
    expect(masking.onStatement(declare, ctx)).toBeUndefined();
    const fetch = stmt('FETCH 10 FROM c', { kind: 'utility', command: 'fetch' });
    expect(masking.onStatement(fetch, ctx)).toBeUndefined();
    expect(() => masking.onResult(result(fetch, [col('lower')]), ctx)).toThrow(/cursor or prepared statement/);
    // Another session that declared nothing is unaffected.
    expect(masking.onResult(result(fetch, [col('lower')]), context())).toBeUndefined();
  });
});

describe('copies of sensitive data', () => {
  const ctas = stmt('CREATE TABLE dump AS SELECT email FROM users', {
    kind: 'ddl', command: 'create_table_as', reads: readsUsers, writes: [{ schema: 'public', name: 'dump' }],
  });
  it('refuses writing values read from a sensitive table into a relation no rule covers', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const verdict = masking.onStatement(ctas, context()) as Deny;
    expect(verdict.error.code).toBe('QG_MASKING_UNRESOLVED');
    expect(verdict.error.message).toMatch(/copy values from public\.users into public\.dump/);
  });
  it('allows writes back into the sensitive table itself, and sensitiveCopies: allow', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const update = stmt('UPDATE users SET email = lower(email)', { kind: 'update', command: 'update', reads: readsUsers, writes: readsUsers });
    expect(masking.onStatement(update, context())).toBeUndefined();
    const lenient = await loadMasking({ ...BASE_OPTIONS, sensitiveCopies: 'allow' });
    expect(lenient.onStatement(ctas, context())).toBeUndefined();
  });
});
