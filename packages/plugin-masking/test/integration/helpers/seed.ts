// The PII both servers are seeded with, and every form a laundered copy of it could take in an
// output (the corpus test searches client results, recordings, logs and audit for each form).

export interface Person {
  readonly id: number;
  readonly name: string;
  readonly email: string | null;
  readonly ssn: string | null;
  readonly phone: string | null;
  readonly card: string | null;
}

/** Distinctive values, so a hit in any output can only come from the seed. */
export const PEOPLE: readonly Person[] = [
  { id: 1, name: 'Alice', email: 'alice.wexford@example.com', ssn: '219-09-9871', phone: '+1-202-555-0143', card: '4539578763621486' },
  { id: 2, name: 'Bob', email: 'bob.kestrel@example.org', ssn: '371-55-0264', phone: '+44-20-7946-0958', card: '5500005555555559' },
  { id: 3, name: 'Carol', email: null, ssn: null, phone: null, card: null },
];

/** Emails that live only inside JSON documents (the `events` table); a detector rule guards them. */
export const JSON_EMAILS: readonly string[] = ['dora.quillon@example.net', 'eve.zarathos@example.com'];

export const ORDERS: readonly { id: number; userId: number; total: string; note: string }[] = [
  { id: 10, userId: 1, total: '42.50', note: 'first order' },
  { id: 11, userId: 2, total: '7.25', note: 'gift' },
  { id: 12, userId: 1, total: '100.00', note: 'repeat' },
];

/** Every clear sensitive value that was seeded. */
export function clearValues(): string[] {
  const out: string[] = [...JSON_EMAILS];
  for (const p of PEOPLE) for (const v of [p.email, p.ssn, p.phone, p.card]) if (v !== null) out.push(v);
  return out;
}

/**
 * The forms a laundering query could turn a clear value into: itself, reversed, hex (bytea, HEX()),
 * base64, and the value with JSON / CSV quoting characters escaped. Compared case-insensitively.
 */
export function leakForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const reversed = [...value].reverse().join('');
  return [...new Set([
    value,
    reversed,
    bytes.toString('hex'),
    bytes.toString('base64').replace(/=+$/, ''),
    Buffer.from(reversed, 'utf8').toString('hex'),
    value.replace(/[-+ ]/g, ''), // digits of a phone / ssn
  ].filter((f) => f.length >= 8).map((f) => f.toLowerCase()))];
}

function q(v: string | null): string {
  return v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`;
}

/** PostgreSQL: tables, a view, seed rows. Run as the database owner (not through the gateway). */
export function postgresSchema(): string {
  return [
    'CREATE TABLE users (id int4 PRIMARY KEY, name text, email text UNIQUE, ssn text, phone varchar(32), card_number text, created date)',
    'CREATE TABLE orders (id int4 PRIMARY KEY, user_id int4 REFERENCES users(id), total numeric(10,2), note text)',
    'CREATE TABLE events (id int4 PRIMARY KEY, kind text, payload jsonb)',
    'CREATE VIEW users_view AS SELECT id, name, email, ssn, phone FROM users',
    // Views the catalog resolver must follow: over a view, computed, renamed, whole-row, another schema.
    'CREATE VIEW users_view_v2 AS SELECT id, email AS contact, ssn FROM users_view',
    "CREATE VIEW contact_cards AS SELECT id, lower(email) AS contact, 'SSN ' || ssn AS tax_id, card_number FROM users",
    'CREATE VIEW renamed_people (who, mail, number) AS SELECT name, email, ssn FROM users',
    'CREATE VIEW people_json AS SELECT id, row_to_json(u) AS doc FROM users u',
    'CREATE SCHEMA hr',
    'CREATE VIEW hr.staff AS SELECT u.id, u.email AS work_mail, o.total FROM users u JOIN orders o ON o.user_id = u.id',
    'CREATE VIEW hr.filtered AS SELECT id, phone FROM users WHERE email IN (SELECT email FROM users)',
    `INSERT INTO users VALUES ${PEOPLE.map((p) => `(${p.id}, ${q(p.name)}, ${q(p.email)}, ${q(p.ssn)}, ${q(p.phone)}, ${q(p.card)}, DATE '2024-0${p.id}-15')`).join(', ')}`,
    `INSERT INTO orders VALUES ${ORDERS.map((o) => `(${o.id}, ${o.userId}, ${o.total}, ${q(o.note)})`).join(', ')}`,
    `INSERT INTO events VALUES (1, 'signup', '${JSON.stringify({ contact: JSON_EMAILS[0], note: 'call back' })}'), ` +
      `(2, 'invite', '${JSON.stringify({ cc: [JSON_EMAILS[1]], n: 2 })}'), (3, 'noop', '{"n": 0}')`,
  ].join(';\n') + ';';
}

/** MariaDB: the same shape. */
export function mysqlSchema(): string {
  return [
    'CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(40), email VARCHAR(80) UNIQUE, ssn VARCHAR(16), phone VARCHAR(32), card_number VARCHAR(24), created DATE)',
    'CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, total DECIMAL(10,2), note VARCHAR(40))',
    'CREATE TABLE events (id INT PRIMARY KEY, kind VARCHAR(20), payload JSON)',
    'CREATE VIEW users_view AS SELECT id, name, email, ssn, phone FROM users',
    // Views the catalog resolver must follow: over a view, computed, renamed, over a join.
    'CREATE VIEW users_view_v2 AS SELECT id, email AS contact, ssn FROM users_view',
    "CREATE VIEW contact_cards AS SELECT id, LOWER(email) AS contact, CONCAT('SSN ', ssn) AS tax_id, card_number FROM users",
    'CREATE VIEW renamed_people (who, mail, number) AS SELECT name, email, ssn FROM users',
    'CREATE VIEW staff AS SELECT u.id, u.email AS work_mail, o.total FROM users u JOIN orders o ON o.user_id = u.id',
    `INSERT INTO users VALUES ${PEOPLE.map((p) => `(${p.id}, ${q(p.name)}, ${q(p.email)}, ${q(p.ssn)}, ${q(p.phone)}, ${q(p.card)}, '2024-0${p.id}-15')`).join(', ')}`,
    `INSERT INTO orders VALUES ${ORDERS.map((o) => `(${o.id}, ${o.userId}, ${o.total}, ${q(o.note)})`).join(', ')}`,
    `INSERT INTO events VALUES (1, 'signup', '${JSON.stringify({ contact: JSON_EMAILS[0], note: 'call back' })}'), ` +
      `(2, 'invite', '${JSON.stringify({ cc: [JSON_EMAILS[1]], n: 2 })}'), (3, 'noop', '{"n": 0}')`,
  ].join(';\n') + ';';
}
