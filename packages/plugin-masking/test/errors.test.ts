import type { ErrorContext, ServerError } from '@querygate/core';
import { redactServerError, WITHHELD_MESSAGE } from '../src';
import { BASE_OPTIONS, context, loadMasking, readsOrders, readsUsers, session, stmt } from './fixtures';

const R = '****';
const select = stmt('SELECT email::int FROM users WHERE id = 1', { reads: readsUsers });
const redact = (error: ServerError, statement = select) => redactServerError(error, statement, R, 'app');

// Texts as PostgreSQL 15 and MariaDB send them (captured from the harness's servers).
describe('redactServerError', () => {
  it('redacts the value a failed cast quotes, keeping SQLSTATE and template', () => {
    expect(redact({ code: '22P02', message: 'invalid input syntax for type integer: "alice@example.com"' }))
      .toEqual({ message: 'invalid input syntax for type integer: "****"', detail: undefined, hint: undefined, where: undefined });
  });

  it('covers every quote of a value that contains quotes (first quote to last)', () => {
    for (const message of [
      'invalid input syntax for type integer: "al"ice@x.com"',
      'invalid input syntax for type integer: ""alice@x.com""',
      'invalid value "al"i" for "YYYY"',
      'unit "al"ice@x.com" not recognized for type timestamp with time zone',
      'invalid input syntax for type integer: "\nalice@x.com"',
    ]) {
      const out = redact({ code: '22P02', message }).message;
      expect(out).not.toMatch(/alice|x\.com|al"i/);
      expect(out).toContain('"****"');
    }
  });

  it('redacts MySQL single-quoted values, not apostrophes inside words', () => {
    expect(redact({ code: '1292', message: "Truncated incorrect INTEGER value: '219-09-9871'" }).message).toBe("Truncated incorrect INTEGER value: '****'");
    expect(redact({ code: '1062', message: "Duplicate entry 'alice@x.com' for key 'email'" }).message).toBe("Duplicate entry '****'");
    expect(redact({ code: '1366', message: "Can't convert 'alice'" }).message).toBe("Can't convert '****'");
    expect(redact({ code: '1000', message: "value 'it's here" }).message).toBe("value '****");
  });

  it('redacts key values, failing rows, JSON excerpts, unquoted operator names and byte sequences', () => {
    const out = redact({
      code: '23505',
      message: 'duplicate key value violates unique constraint "u_email_key"',
      detail: 'Key (email)=(al"ice@x.com) already exists.',
    });
    expect(out.detail).toBe('Key (email)=(****) already exists.');
    expect(out.message).toBe('duplicate key value violates unique constraint "****"');
    expect(redact({ code: '23514', message: 'x', detail: 'Failing row contains (3, al"ice@x.comz, bad, null).' }).detail).toBe('Failing row contains (****).');
    expect(redact({ code: '22P02', message: 'invalid input syntax for type json', detail: 'Token "ice" is invalid.', where: 'JSON data, line 1: "al"ice...' }))
      .toEqual({ message: 'invalid input syntax for type json', detail: 'Token "****" is invalid.', hint: undefined, where: 'JSON data, line 1: ****' });
    expect(redact({ code: '42883', message: 'operator does not exist: alice@x.com' }).message).toBe('operator does not exist: ****');
    expect(redact({ code: '22P05', message: 'character with byte sequence 0xe2 0x82 0xac in encoding "UTF8" has no equivalent in encoding "LATIN1"' }).message)
      .toBe('character with byte sequence 0x** in encoding "****"');
  });

  it('withholds text a user\'s code wrote (RAISE, SIGNAL), whatever its SQLSTATE', () => {
    const raised = redact({ code: '22P02', message: 'custom al"ice@x.com', detail: 'd alice', hint: 'h alice', where: 'PL/pgSQL function pg_temp_3.f(text) line 1 at RAISE' });
    expect(raised).toEqual({ message: WITHHELD_MESSAGE, detail: undefined, hint: undefined, where: 'PL/pgSQL function pg_temp_3.f(text) line 1 at RAISE' });
    expect(redact({ code: 'P0001', message: 'alice@x.com' }).message).toBe(WITHHELD_MESSAGE);
    expect(redact({ code: '1644', message: 'alice@x.com' }).message).toBe(WITHHELD_MESSAGE);
  });

  it('withholds the DETAIL of XML errors (it quotes the document)', () => {
    const out = redact({ code: '2200N', message: 'invalid XML content', detail: 'line 1: Opening and ending tag mismatch: a line 1 and b\n<a>al"ice@x.com</b>\n   ^' });
    expect(out).toMatchObject({ message: 'invalid XML content', detail: R });
  });

  it('keeps quoted names and literals the statement itself contains', () => {
    const typo = stmt('SELECT emial FROM Usrs WHERE name = \'bob\'', { reads: readsUsers });
    expect(redact({ code: '42P01', message: 'relation "usrs" does not exist' }, typo).message).toBe('relation "usrs" does not exist');
    expect(redact({ code: '42703', message: 'column "emial" does not exist', hint: 'Perhaps you meant to reference the column "users.email".' }, typo))
      .toMatchObject({ message: 'column "emial" does not exist', hint: 'Perhaps you meant to reference the column "****".' });
    expect(redact({ code: '1054', message: "Unknown column 'emial' in 'field list'" }, typo).message).toBe("Unknown column 'emial' in 'field list'");
    expect(redact({ code: '1146', message: "Table 'app.usrs' doesn't exist" }, typo).message).toBe("Table 'app.usrs' doesn't exist");
    expect(redact({ code: '22P02', message: 'invalid input syntax for type integer: "bob"' }, typo).message).toBe('invalid input syntax for type integer: "bob"');
    // Not when the text between the quoted names is more than template words: it could be a value.
    expect(redact({ code: '1', message: 'x "usrs" secret stuff "emial"' }, typo).message).toBe('x "****"');
    // A value the statement does not contain.
    expect(redact({ code: '22P02', message: 'invalid input syntax for type integer: "bob2"' }, typo).message).toBe('invalid input syntax for type integer: "****"');
  });
});

describe('masking onError', () => {
  const castError: ServerError = { code: '22P02', message: 'invalid input syntax for type integer: "alice@example.com"' };
  const errorContext = (statement: ErrorContext['statement'], s = session()): ErrorContext => ({ ...context(s), statement });

  it('redacts errors of statements that read sensitive tables, for non-exempt sessions only', async () => {
    const masking = await loadMasking({ ...BASE_OPTIONS, exempt: { groups: ['dba'] } });
    expect(masking.onError(castError, errorContext(select))?.message).toBe('invalid input syntax for type integer: "****"');
    expect(masking.onError(castError, errorContext(select, session({ groups: ['dba'] })))).toBeUndefined();
    expect(masking.onError(castError, errorContext(stmt('SELECT note::int FROM orders', { reads: readsOrders })))).toBeUndefined();
  });

  it('without a statement, or at COMMIT, redacts once the session has read sensitive data', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = session();
    const commit = stmt('COMMIT', { kind: 'tcl', command: 'commit' });
    expect(masking.onError(castError, errorContext(undefined, s))).toBeUndefined();
    expect(masking.onError(castError, errorContext(commit, s))).toBeUndefined();
    expect(masking.onStatement(select, context(s))).toBeUndefined();
    expect(masking.onError(castError, errorContext(undefined, s))?.message).toContain('"****"');
    expect(masking.onError(castError, errorContext(commit, s))?.message).toContain('"****"');
    // A later statement that names only other tables keeps its errors as they are.
    expect(masking.onError(castError, errorContext(stmt('SELECT note::int FROM orders', { reads: readsOrders }), s))).toBeUndefined();
  });

  it('redacts errors of a FETCH / EXECUTE once a cursor or prepared statement over sensitive data exists', async () => {
    const masking = await loadMasking(BASE_OPTIONS);
    const s = session();
    masking.onStatement(stmt('DECLARE c CURSOR FOR SELECT email::int FROM users', { command: 'declare_cursor', kind: 'utility', reads: readsUsers }), context(s));
    const fetch = stmt('FETCH ALL FROM c', { command: 'fetch', kind: 'utility', complete: false });
    expect(masking.onError(castError, errorContext(fetch, s))?.message).toContain('"****"');
  });
});
