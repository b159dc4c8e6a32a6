import { ColumnPattern, Glob, NamePattern } from '../src';
import { col, context, KEY, loadMasking, out, result, session, stmt, users } from './fixtures';

describe('column patterns', () => {
  it.each([
    ['public.users.email', { schema: 'public', table: 'users', column: 'email' }, true],
    ['public.users.email', { schema: 'app', table: 'users', column: 'email' }, false],
    ['public.users.email', { table: 'users', column: 'email' }, true],
    ['public.users.email', { schema: 'PUBLIC', table: 'Users', column: 'EMAIL' }, true],
    ['*.users.ssn', { schema: 'hr', table: 'users', column: 'ssn' }, true],
    ['*.users.ssn', { schema: 'hr', table: 'users2', column: 'ssn' }, false],
    ['app.*.card_number', { schema: 'app', table: 'payments', column: 'card_number' }, true],
    ['app.*.card_number', { schema: 'shop', table: 'payments', column: 'card_number' }, false],
    ['users.email', { schema: 'anything', table: 'users', column: 'email' }, true],
    ['public.users.*', { schema: 'public', table: 'users', column: 'id' }, true],
    ['public.cust?mers.email', { schema: 'public', table: 'customers', column: 'email' }, true],
    ['public.users.email', { schema: 'public', table: 'users', column: '*' }, true],
    ['public.users.email', { schema: 'public', table: 'orders', column: '*' }, false],
  ])('%s vs %j -> %s', (pattern, ref, expected) => {
    expect(new ColumnPattern(pattern).matches(ref)).toBe(expected);
  });
  it('globs escape regex characters', () => {
    expect(new Glob('a+b').matches('a+b')).toBe(true);
    expect(new Glob('a+b').matches('aab')).toBe(false);
  });
});

describe('name patterns', () => {
  it('match output names and source column names', () => {
    const ssn = new NamePattern('*ssn*');
    expect(ssn.matchesName('customer_ssn')).toBe(true);
    expect(ssn.matchesName('SSN')).toBe(true);
    expect(ssn.matchesName('session')).toBe(false);
    expect(ssn.matchesSource({ table: 't', column: 'ssn_last4' })).toBe(true);
    expect(ssn.matchesSource({ table: 't', column: '*' })).toBe(false);
    const anyEmail = new NamePattern('*.email');
    expect(anyEmail.matchesName('email')).toBe(true);
    expect(anyEmail.matchesSource({ schema: 's', table: 'x', column: 'email' })).toBe(true);
    const usersOnly = new NamePattern('users.*');
    expect(usersOnly.matchesName('email')).toBe(false);
    expect(usersOnly.matchesSource({ table: 'users', column: 'email' })).toBe(true);
    expect(usersOnly.matchesSource({ table: 'orders', column: 'email' })).toBe(false);
  });
});

describe('rule matching in plans', () => {
  const options = {
    key: KEY,
    exempt: { groups: ['dba'], listeners: ['pg-admin'] },
    rules: [
      { name: 'emails', columns: ['public.users.email'], strategy: 'email' },
      { name: 'ssn-names', names: ['*ssn*'], strategy: { partial: { last: 4 } } },
      { name: 'network', type: ['inet', 'macaddr'], strategy: 'redact' },
      { name: 'hash-names', names: ['*name*'], strategy: 'hash', exempt: { groups: ['support'] } },
    ],
  };
  const s = stmt('SELECT email, tax_ssn, ip, mac, full_name, note FROM users', {
    reads: [{ schema: 'public', name: 'users' }],
    outputs: ['email', 'tax_ssn', 'ip', 'mac', 'full_name', 'note'].map((c) => out([users(c)], { direct: true })),
  });
  const columns = [
    col('email', 'text', users('email')), col('tax_ssn', 'text', users('tax_ssn')), col('ip', 'inet', users('ip')),
    col('mac', 'macaddr', users('mac')), col('full_name', 'text', users('full_name')), col('note', 'text', users('note')),
  ];
  const row = ['a@b.io', '123-45-6789', '10.1.2.3', '08:00:2b:01:02:03', 'Alice Smith', 'hi'];
  const run = async (sess = session()) => {
    const masking = await loadMasking(options);
    const plan = masking.onResult(result(s, columns), context(sess));
    return plan ? row.map((v, i) => plan.columns.get(i)?.(v) ?? v) : row;
  };

  it('matches by column glob, name pattern and type', async () => {
    const masked = await run();
    expect(masked.slice(0, 4)).toEqual(['***@b.io', '*******6789', '0.0.0.0', '00:00:00:00:00:00']);
    expect(masked[4]).toMatch(/^[0-9a-f]{16}$/);
    expect(masked[5]).toBe('hi');
  });
  it('a name pattern also matches the output name of a computed column', async () => {
    const masking = await loadMasking(options);
    const q = stmt('SELECT md5(x) AS customer_ssn FROM t', { outputs: [out([{ table: 't', column: 'x' }])] });
    const plan = masking.onResult(result(q, [col('customer_ssn')]), context());
    expect(plan?.columns.get(0)?.('abc')).toBe('****');
  });
  it('exempts whole sessions by group and by listener', async () => {
    expect(await run(session({ groups: ['dev', 'dba'] }))).toEqual(row);
    expect(await run(session({ listener: 'pg-admin' }))).toEqual(row);
  });
  it('exempts single rules by group', async () => {
    const masked = await run(session({ groups: ['support'] }));
    expect(masked[4]).toBe('Alice Smith');
    expect(masked[0]).toBe('***@b.io');
  });
  it('tries rules in order: the first match decides the strategy', async () => {
    const masking = await loadMasking({
      rules: [{ columns: ['*.users.ssn'], strategy: 'null' }, { names: ['*ssn*'], strategy: 'redact' }],
    });
    const q = stmt('SELECT ssn FROM users', { reads: [{ name: 'users' }], outputs: [out([users('ssn')], { direct: true })] });
    expect(masking.onResult(result(q, [col('ssn', 'text', users('ssn'))]), context())?.columns.get(0)?.('1')).toBeNull();
  });
});

describe('detector rules', () => {
  const options = {
    detectors: [{ name: 'employee_id', pattern: 'EMP-\\d{6}' }],
    rules: [
      { columns: ['public.users.email'], strategy: 'email' },
      { detect: ['credit_card', 'employee_id'], strategy: { partial: { last: 4 } } },
      { detect: ['pem_private_key'], scope: 'value', strategy: 'null' },
    ],
  };
  const s = stmt('SELECT email, note, qty FROM users', {
    reads: [{ schema: 'public', name: 'users' }],
    outputs: ['email', 'note', 'qty'].map((c) => out([users(c)], { direct: true })),
  });
  const columns = [col('email', 'text', users('email')), col('note', 'text', users('note')), col('qty', 'int4', users('qty'))];

  it('scan text columns no column rule matched, masking matches or whole values', async () => {
    const masking = await loadMasking(options);
    const plan = masking.onResult(result(s, columns), context())!;
    expect(plan.decisions.map((d) => [d.name, d.reason])).toEqual([['email', 'origin'], ['note', 'detector']]);
    const note = plan.columns.get(1)!;
    expect(note('paid 4111 1111 1111 1111 by EMP-123456')).toBe(`paid ${'*'.repeat(15)}1111 by ${'*'.repeat(6)}3456`);
    expect(note('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----')).toBeNull();
    const clean = 'nothing here 4111 1111 1111 1112';
    expect(note(clean)).toBe(clean);
    expect(plan.columns.has(2)).toBe(false);
  });
  it('cost nothing when not configured: no plan without sensitive columns', async () => {
    const masking = await loadMasking({ rules: [{ columns: ['public.users.email'] }] });
    const q = stmt('SELECT note FROM users', { outputs: [out([users('note')], { direct: true })] });
    expect(masking.onResult(result(q, [col('note', 'text', users('note'))]), context())).toBeUndefined();
  });
});
