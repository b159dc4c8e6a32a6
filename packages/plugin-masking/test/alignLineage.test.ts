import { alignLineage } from '../src';
import { col, orders, out, users } from './fixtures';

const star = (table: string) => ({ schema: 'public', table, column: '*' });

describe('alignLineage', () => {
  it('maps one entry to one column when nothing expands', () => {
    const a = alignLineage([col('a'), col('b')], [out([users('email')]), out([users('id')], { direct: true })]);
    expect(a?.map((c) => c.sources.map((s) => s.column))).toEqual([['email'], ['id']]);
    expect(a?.map((c) => c.direct)).toEqual([false, true]);
  });
  it('fails when counts differ without expands', () => {
    expect(alignLineage([col('a')], [out([]), out([])])).toBeUndefined();
  });
  it('gives a single * all the columns left', () => {
    const a = alignLineage([col('x'), col('id', 'int4', users('id')), col('email', 'text', users('email')), col('y')],
      [out([]), out([star('users')], { expands: true, direct: true }), out([])]);
    expect(a?.map((c) => c.sources.map((s) => s.column))).toEqual([[], ['id'], ['email'], []]);
  });
  it('cuts two * runs by origin tables', () => {
    const a = alignLineage(
      [col('id', 'int4', orders('id')), col('note', 'text', orders('note')), col('id', 'int4', users('id')), col('email', 'text', users('email'))],
      [out([star('orders')], { expands: true, direct: true }), out([star('users')], { expands: true, direct: true })],
    );
    expect(a?.map((c) => `${c.sources[0]!.table}.${c.sources[0]!.column}`)).toEqual(['orders.id', 'orders.note', 'users.id', 'users.email']);
  });
  it('unions sources when the cut is ambiguous (no origins): masks more, never less', () => {
    const a = alignLineage([col('a'), col('b'), col('c')],
      [out([star('orders')], { expands: true, direct: true }), out([star('users')], { expands: true, direct: true })]);
    expect(a).toBeDefined();
    // The first column is always orders, the last always users, the middle one may be either.
    expect(a![0]!.sources.map((s) => s.table)).toEqual(['orders']);
    expect(a![1]!.sources.map((s) => s.table).sort()).toEqual(['orders', 'users']);
    expect(a![2]!.sources.map((s) => s.table)).toEqual(['users']);
  });
  it('fails when an origin contradicts every cut', () => {
    expect(alignLineage([col('email', 'text', users('email'))], [out([orders('note')], { direct: true })])).toBeUndefined();
    expect(alignLineage([col('email', 'text', users('email'))], [out([star('orders')], { expands: true })])).toBeUndefined();
  });
  it('prefers the cut where expressions have no origin, but accepts others', () => {
    // The analyser calls a plain column reference non-direct: still aligned (relaxed pass).
    const a = alignLineage([col('email', 'text', users('email'))], [out([users('email')])]);
    expect(a?.[0]?.sources).toEqual([users('email')]);
  });
});
