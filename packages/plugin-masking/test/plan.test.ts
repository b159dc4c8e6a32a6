import type { RowTransform } from '@querygate/core';
import type { MaskingPlan } from '../src';
import {
  BASE_OPTIONS, BYPASS_CASES, col, context, loadMasking, orders, out, readsOrders, result, session, stmt, users,
} from './fixtures';

function apply(plan: RowTransform | undefined, row: readonly string[]): (string | null)[] {
  return row.map((value, i) => {
    const mask = plan?.columns.get(i);
    return mask ? mask(value) : value;
  });
}

describe('a sensitive column is masked wherever it reaches the output', () => {
  for (const c of BYPASS_CASES) {
    it(c.name, async () => {
      const masking = await loadMasking(BASE_OPTIONS);
      const ctx = context(session({ protocol: c.protocol }));
      expect(masking.onStatement(c.statement, ctx)).toBeUndefined();
      const plan = masking.onResult(result(c.statement, c.columns, c.source ?? 'rows'), ctx);
      expect(plan).toBeDefined();
      expect(plan!.label).toBe('masking');
      expect(apply(plan, c.row)).toEqual(c.expected);
      // The plan names exactly the columns it rewrites.
      expect(plan!.covers).toEqual([...plan!.columns.keys()].map((i) => c.columns[i]!.name));
    });
  }
});

describe('plans', () => {
  it('returns no plan for a result without sensitive columns', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = stmt('SELECT id, total FROM orders', {
      reads: readsOrders, outputs: [out([orders('id')], { direct: true }), out([orders('total')], { direct: true })],
    });
    expect(masking.onResult(result(s, [col('id', 'int4', orders('id')), col('total', 'numeric', orders('total'))]), context())).toBeUndefined();
  });

  it('returns no plan for harmless columns of a sensitive table', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = stmt('SELECT id, name FROM users', {
      reads: [{ schema: 'public', name: 'users' }], outputs: [out([users('id')], { direct: true }), out([users('name')], { direct: true })],
    });
    expect(masking.onResult(result(s, [col('id', 'int4', users('id')), col('name', 'text', users('name'))]), context())).toBeUndefined();
  });

  it('masks by origin even when the analyser saw nothing (cursor FETCH, prepared EXECUTE)', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = stmt('FETCH 10 FROM c', { kind: 'utility', command: 'fetch' });
    const plan = masking.onResult(result(s, [col('id', 'int4', users('id')), col('email', 'text', users('email'))]), context());
    expect(apply(plan, ['1', 'bob@example.org'])).toEqual(['1', 'b***@example.org']);
  });

  it('caches plans per statement fingerprint and column signature', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const c = BYPASS_CASES[0]!;
    const ctx = context();
    const first = masking.onResult(result(c.statement, c.columns), ctx);
    const again = masking.onResult(result(c.statement, c.columns), ctx);
    expect(again).toBe(first);
    // Same fingerprint, different columns (e.g. after ALTER TABLE): a new plan.
    const other = masking.onResult(result(c.statement, [col('email', 'varchar', users('email'))]), ctx);
    expect(other).not.toBe(first);
    const none = stmt('SELECT 1', { outputs: [out([])] });
    expect(masking.onResult(result(none, [col('?column?', 'int4')]), ctx)).toBeUndefined();
    expect(masking.onResult(result(none, [col('?column?', 'int4')]), ctx)).toBeUndefined();
  });

  it('never changes the number of columns or touches NULL (masks are only called for values)', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const c = BYPASS_CASES.find((x) => x.name.startsWith('SELECT *'))!;
    const plan = masking.onResult(result(c.statement, c.columns), context()) as MaskingPlan;
    expect(Math.max(...plan.columns.keys())).toBeLessThan(c.columns.length);
    expect(plan.decisions.map((d) => [d.name, d.rule, d.reason, d.strategy])).toEqual([
      ['email', 'emails', 'origin', 'email'],
      ['ssn', 'ssn', 'origin', 'partial'],
    ]);
  });

  it('keeps typed redaction valid for the column type under redact-all', async () => {
    const masking = await loadMasking({ ...BASE_OPTIONS, fallback: 'redact-all' });
    const s = stmt('SELECT * FROM f()', { reads: [{ schema: 'public', name: 'users' }], complete: false });
    const types = ['int4', 'numeric', 'bool', 'date', 'timestamptz', 'uuid', 'text', 'jsonb', 'inet', 'bytea'];
    const plan = masking.onResult(result(s, types.map((t) => col(t, t))), context());
    expect(apply(plan, types.map(() => 'x'))).toEqual(
      ['0', '0', 'f', '1970-01-01', '1970-01-01 00:00:00+00', '00000000-0000-0000-0000-000000000000', '****', '"****"', '0.0.0.0', '\\x'],
    );
  });
});
