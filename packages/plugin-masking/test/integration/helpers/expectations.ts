// What a client must see in each result column through the gateway, judged against the value the
// same query returns directly from the server.
import { JSON_EMAILS } from './seed';

/**
 * clear: equal to direct (not sensitive) · email / ssn / phone / card: that rule's own strategy ·
 * red: redacted (derived strategy, typed) · masked: anything but the clear value · detected: the
 * direct value with each embedded email replaced by the detector rule's "[email]". NULL stays NULL
 * and nothing else becomes NULL, whatever the format.
 */
export type Expect = 'clear' | 'email' | 'ssn' | 'phone' | 'card' | 'red' | 'masked' | 'detected';

const REDACTED = new Set(['****', '"****"', '{}', '\\x']);

/** Returns a problem description, or undefined when `got` is what `direct` must become. */
export function judge(kind: Expect, direct: string | null, got: string | null): string | undefined {
  if (direct === null || got === null) return direct === got ? undefined : `NULL mismatch: direct ${String(direct)}, got ${String(got)}`;
  const ok = ((): boolean => {
    switch (kind) {
      case 'clear': return got === direct;
      case 'email': {
        const at = direct.indexOf('@');
        return got === `${direct[0]}***${direct.slice(at)}`;
      }
      case 'ssn': return got === `${'*'.repeat(direct.length - 4)}${direct.slice(-4)}`;
      case 'phone': return got === `${'*'.repeat(direct.length - 2)}${direct.slice(-2)}`;
      case 'card': return /^[0-9a-f]{12}$/.test(got);
      case 'red': return REDACTED.has(got);
      case 'masked': return got !== direct;
      case 'detected': return got === JSON_EMAILS.reduce((v, e) => v.split(e).join('[email]'), direct);
    }
  })();
  return ok ? undefined : `${kind}: direct ${JSON.stringify(direct)} became ${JSON.stringify(got)}`;
}

/** A result as text cells, whatever the client. */
export interface Table {
  readonly columns: readonly string[];
  /** Type per column as the client reports it (OID, MySQL type code, JDBC type name). */
  readonly types: readonly string[];
  readonly rows: readonly (readonly (string | null)[])[];
}

/** Every problem of `got` against `direct` under the column expectations `kinds`. */
export function compareTables(label: string, kinds: readonly Expect[], direct: Table, got: Table): string[] {
  const problems: string[] = [];
  if (JSON.stringify(got.columns) !== JSON.stringify(direct.columns)) problems.push(`${label}: columns ${JSON.stringify(got.columns)} != ${JSON.stringify(direct.columns)}`);
  if (JSON.stringify(got.types) !== JSON.stringify(direct.types)) problems.push(`${label}: types ${JSON.stringify(got.types)} != ${JSON.stringify(direct.types)}`);
  if (got.rows.length !== direct.rows.length) problems.push(`${label}: ${got.rows.length} rows, direct ${direct.rows.length}`);
  if (kinds.length !== direct.columns.length) problems.push(`${label}: ${kinds.length} expectations for ${direct.columns.length} columns`);
  direct.rows.forEach((row, r) => row.forEach((cell, c) => {
    const problem = judge(kinds[c] ?? 'clear', cell, got.rows[r]?.[c] ?? null);
    if (problem) problems.push(`${label}: row ${r} column ${direct.columns[c]}: ${problem}`);
  }));
  return problems;
}

export interface Probe { readonly sql: string; readonly kinds: readonly Expect[] }

const USER_COLUMNS: readonly Expect[] = ['clear', 'clear', 'email', 'ssn', 'phone', 'card', 'clear'];

// Derived values of card_number get the rule's own strategy (hash: the `derived` default is the
// strategy itself unless it is partial or email), hence `masked` rather than `red` for them.

/** The paths of the brief, for PostgreSQL. Ordered so rows line up with a direct run. */
export const PG_PROBES: readonly Probe[] = [
  { sql: 'SELECT id, name, email, ssn, phone, card_number, created FROM users ORDER BY id', kinds: USER_COLUMNS },
  { sql: 'SELECT * FROM users ORDER BY id', kinds: USER_COLUMNS },
  { sql: "SELECT lower(email) AS l, email || '' AS c, substr(ssn, 1, 100) AS s, encode(convert_to(email, 'UTF8'), 'base64') AS b, reverse(card_number) AS r FROM users ORDER BY id", kinds: ['red', 'red', 'red', 'red', 'masked'] },
  { sql: 'SELECT email::varchar(100) AS v, ssn::bytea AS b FROM users ORDER BY id', kinds: ['masked', 'red'] },
  { sql: 'SELECT CASE WHEN id > 0 THEN email END AS e, coalesce(NULL, phone) AS p FROM users ORDER BY id', kinds: ['red', 'red'] },
  { sql: 'SELECT (SELECT email FROM users ORDER BY id LIMIT 1) AS e', kinds: ['masked'] },
  { sql: 'WITH c AS (SELECT id, email, ssn FROM users) SELECT id, email, ssn FROM c ORDER BY id', kinds: ['clear', 'masked', 'masked'] },
  { sql: 'SELECT x FROM (SELECT id, email AS x FROM users) s ORDER BY id', kinds: ['masked'] },
  { sql: 'SELECT email FROM users UNION ALL SELECT note FROM orders', kinds: ['masked'] },
  { sql: 'SELECT ssn FROM users INTERSECT SELECT ssn FROM users ORDER BY 1', kinds: ['masked'] },
  // Views are followed through the catalog: a view column that is its source unchanged keeps the
  // rule's own strategy, a computed one gets the derived strategy.
  { sql: 'SELECT * FROM users_view ORDER BY id', kinds: ['clear', 'clear', 'email', 'ssn', 'phone'] },
  { sql: 'SELECT id, contact, ssn FROM users_view_v2 ORDER BY id', kinds: ['clear', 'email', 'ssn'] },
  { sql: 'SELECT id, contact, tax_id, card_number FROM contact_cards ORDER BY id', kinds: ['clear', 'red', 'red', 'card'] },
  { sql: 'SELECT who, mail, number FROM renamed_people ORDER BY who', kinds: ['clear', 'email', 'ssn'] },
  { sql: 'SELECT id, doc FROM people_json ORDER BY id', kinds: ['clear', 'red'] },
  { sql: 'SELECT id, work_mail, total FROM hr.staff ORDER BY id, total', kinds: ['clear', 'email', 'clear'] },
  { sql: 'SELECT row_to_json(u) AS j, to_jsonb(u) AS b FROM users u ORDER BY id', kinds: ['red', 'red'] },
  { sql: 'SELECT u FROM users u ORDER BY id', kinds: ['red'] },
  { sql: "SELECT string_agg(email, ',' ORDER BY id) AS s, array_agg(ssn ORDER BY id) AS a, json_agg(card_number ORDER BY id) AS j, jsonb_agg(u ORDER BY id) AS w FROM users u", kinds: ['red', 'red', 'masked', 'red'] },
  { sql: 'SELECT o.id, o.total, u.email, u.card_number FROM orders o JOIN users u ON u.id = o.user_id ORDER BY o.id', kinds: ['clear', 'clear', 'email', 'card'] },
  { sql: 'SELECT o.id, l.e FROM orders o CROSS JOIN LATERAL (SELECT email AS e FROM users u WHERE u.id = o.user_id) l ORDER BY o.id', kinds: ['clear', 'masked'] },
  { sql: 'UPDATE users SET name = name WHERE id IN (1, 3) RETURNING id, email, ssn', kinds: ['clear', 'email', 'ssn'] },
  { sql: 'SELECT id, kind, payload FROM events ORDER BY id', kinds: ['clear', 'clear', 'detected'] },
];

/** The same for MySQL. */
export const MYSQL_PROBES: readonly Probe[] = [
  { sql: 'SELECT id, name, email, ssn, phone, card_number, created FROM users ORDER BY id', kinds: USER_COLUMNS },
  { sql: 'SELECT * FROM users ORDER BY id', kinds: USER_COLUMNS },
  { sql: "SELECT LOWER(email) AS l, CONCAT(email, '') AS c, SUBSTR(ssn, 1, 100) AS s, HEX(email) AS h, TO_BASE64(card_number) AS b FROM users ORDER BY id", kinds: ['red', 'red', 'red', 'red', 'masked'] },
  { sql: 'SELECT CASE WHEN id > 0 THEN email END AS e, COALESCE(NULL, phone) AS p FROM users ORDER BY id', kinds: ['red', 'red'] },
  { sql: 'SELECT (SELECT email FROM users ORDER BY id LIMIT 1) AS e', kinds: ['masked'] },
  { sql: 'SELECT email FROM users UNION ALL SELECT note FROM orders', kinds: ['masked'] },
  // The catalog answers before the declared view: its columns are their sources unchanged.
  { sql: 'SELECT * FROM users_view ORDER BY id', kinds: ['clear', 'clear', 'email', 'ssn', 'phone'] },
  { sql: "SELECT JSON_OBJECT('e', email) AS j FROM users ORDER BY id", kinds: ['red'] },
  { sql: 'SELECT GROUP_CONCAT(ssn ORDER BY id) AS g FROM users', kinds: ['red'] },
  { sql: 'SELECT o.id, o.total, u.email, u.card_number FROM orders o JOIN users u ON u.id = o.user_id ORDER BY o.id', kinds: ['clear', 'clear', 'email', 'card'] },
  { sql: 'SELECT u.* FROM users u JOIN orders o ON o.user_id = u.id ORDER BY o.id', kinds: USER_COLUMNS },
  // MariaDB reports the derived table's / CTE's alias as the origin: aligned by lineage alone.
  { sql: 'SELECT x FROM (SELECT id, email AS x FROM users) s ORDER BY id', kinds: ['email'] },
  { sql: 'SELECT * FROM (SELECT * FROM users) t ORDER BY id', kinds: USER_COLUMNS },
  { sql: 'WITH c AS (SELECT id, email, ssn FROM users) SELECT id, email, ssn FROM c ORDER BY id', kinds: ['clear', 'email', 'ssn'] },
  { sql: 'SELECT x FROM (SELECT id, REVERSE(email) AS x FROM users) s ORDER BY id', kinds: ['red'] },
];
