// Hand-written Statements and ResultSets, shaped like what the protocol adapters will produce. Each
// bypass case carries the SQL it stands for, so integration tests through real clients can run the
// same cases against a database loaded with SCHEMA_SQL and compare.
import {
  Secret,
  type ColumnRef, type OutputColumnLineage, type PluginContext, type ResultColumn, type ResultSet, type Session,
  type Statement, type StatementContext, type Interceptor, type Capability, type Logger,
} from '@querygate/core';
import { maskingPlugin, type MaskingInterceptor } from '../src';

export const KEY = new Secret('test-masking-key-0123456789', 'env:MASKING_KEY');
export const OTHER_KEY = new Secret('another-masking-key-9876543210', 'env:OTHER_KEY');

/** Tables the cases read; integration tests create them upstream. */
export const SCHEMA_SQL = `
CREATE TABLE users (id int4 PRIMARY KEY, email text, ssn text, name text);
CREATE TABLE orders (id int4 PRIMARY KEY, user_id int4, total numeric, note text);
INSERT INTO users VALUES (1, 'alice@example.com', '123-45-6789', 'Alice');
INSERT INTO orders VALUES (10, 1, 42.50, 'first order');
`;

export const users = (column: string): ColumnRef => ({ schema: 'public', table: 'users', column });
export const orders = (column: string): ColumnRef => ({ schema: 'public', table: 'orders', column });

export function col(name: string, type = 'text', origin?: ColumnRef): ResultColumn {
  return origin ? { name, type, typeId: 0, format: 'text', origin } : { name, type, typeId: 0, format: 'text' };
}

export function out(sources: ColumnRef[], options: { direct?: boolean; name?: string; expands?: boolean } = {}): OutputColumnLineage {
  return { sources, direct: options.direct ?? false, name: options.name, expands: options.expands };
}

export function stmt(text: string, overrides: Partial<Omit<Statement, 'lineage'>> & { outputs?: OutputColumnLineage[]; complete?: boolean } = {}): Statement {
  const { outputs = [], complete = true, ...rest } = overrides;
  return {
    text, kind: 'select', command: 'select', fingerprint: `fp:${text}`, normalized: text,
    reads: [], writes: [], functions: [], risks: new Set(),
    lineage: { outputs, complete },
    ...rest,
  };
}

export const readsUsers = [{ schema: 'public', name: 'users' }];
export const readsOrders = [{ schema: 'public', name: 'orders' }];

export function result(statement: Statement, columns: ResultColumn[], source: ResultSet['source'] = 'rows'): ResultSet {
  return { statement, columns, source };
}

export function session(overrides: { groups?: string[]; listener?: string; protocol?: Session['protocol']; database?: string } = {}): Session {
  return {
    id: 's1', protocol: overrides.protocol ?? 'postgres', listener: overrides.listener ?? 'pg', database: overrides.database ?? 'app',
    clientAddress: '127.0.0.1:5555', startedAt: new Date(), clientParameters: { user: 'alice' }, tls: false, state: new Map(),
    identity: { subject: 'alice', groups: overrides.groups ?? ['dev'], method: 'local', claims: {} },
  };
}

export function context(s: Session = session()): StatementContext {
  return { session: s, via: 'simple', signal: new AbortController().signal };
}

const quietLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {},
  child() { return quietLogger; },
};

/** Registers the plugin as the gateway would, with a small real PluginContext. */
export async function loadMasking(options: unknown, capabilities: Map<string, unknown> = new Map()): Promise<MaskingInterceptor> {
  const interceptors: Interceptor[] = [];
  const ctx: PluginContext = {
    options,
    logger: quietLogger,
    gateway: { id: 'test', dataDir: '/nonexistent', adminUrl: undefined },
    addInterceptor: (i) => { interceptors.push(i); },
    addAuditSink: () => undefined,
    provide: <T>(cap: Capability<T>, impl: T) => { capabilities.set(cap.name, impl); },
    use: <T>(cap: Capability<T>): T | undefined => capabilities.get(cap.name) as T | undefined,
    audit: () => undefined,
    addAdminRoute: () => undefined,
    onShutdown: () => undefined,
  };
  await maskingPlugin.register(ctx);
  return interceptors[0] as MaskingInterceptor;
}

/** The rules most cases run under. */
export const BASE_OPTIONS = {
  key: KEY,
  rules: [
    { name: 'emails', columns: ['public.users.email', 'app.users.email'], strategy: 'email' },
    { name: 'ssn', columns: ['*.users.ssn'], strategy: { partial: { last: 4 } } },
  ],
};

/** One way of reaching a sensitive column, with the masks each result column must get. */
export interface BypassCase {
  readonly name: string;
  readonly protocol: Session['protocol'];
  readonly sql: string;
  readonly statement: Statement;
  readonly columns: ResultColumn[];
  readonly source?: ResultSet['source'];
  /** One row of clear values, and what the client must receive for it (null = SQL NULL). */
  readonly row: readonly string[];
  readonly expected: readonly (string | null)[];
}

function bypass(
  name: string, sql: string, columns: ResultColumn[], outputs: OutputColumnLineage[], row: string[], expected: (string | null)[],
  extra: Partial<Omit<Statement, 'lineage'>> & { source?: ResultSet['source']; protocol?: Session['protocol'] } = {},
): BypassCase {
  const { source, protocol = 'postgres', ...rest } = extra;
  return { name, protocol, sql, statement: stmt(sql, { reads: readsUsers, outputs, ...rest }), columns, source, row, expected };
}

const EMAIL = 'alice@example.com';
const SSN = '123-45-6789';

export const BYPASS_CASES: readonly BypassCase[] = [
  bypass('direct column (origin + lineage)', 'SELECT email FROM users',
    [col('email', 'text', users('email'))], [out([users('email')], { direct: true, name: 'email' })],
    [EMAIL], ['a***@example.com']),
  bypass('alias keeps origin', 'SELECT email AS contact FROM users',
    [col('contact', 'text', users('email'))], [out([users('email')], { direct: true, name: 'contact' })],
    [EMAIL], ['a***@example.com']),
  bypass('function: lower(email)', 'SELECT lower(email) FROM users',
    [col('lower')], [out([users('email')], { name: 'lower' })], [EMAIL], ['****']),
  bypass('concatenation: email || \'\'', "SELECT email || '' AS e FROM users",
    [col('e')], [out([users('email')], { name: 'e' })], [EMAIL], ['****']),
  bypass('substr + cast', 'SELECT substr(ssn::text, 1, 3) AS s FROM users',
    [col('s')], [out([users('ssn')], { name: 's' })], [SSN], ['****']),
  bypass('encode to base64', "SELECT encode(convert_to(email, 'UTF8'), 'base64') AS b FROM users",
    [col('b')], [out([users('email')], { name: 'b' })], ['YWxpY2VAZXhhbXBsZS5jb20='], ['****']),
  bypass('MySQL CONCAT', "SELECT CONCAT(email, '') AS e FROM users",
    [col('e', 'varchar')], [out([{ schema: 'app', table: 'users', column: 'email' }], { name: 'e' })], [EMAIL], ['****'],
    { protocol: 'mysql', reads: [{ schema: 'app', name: 'users' }] }),
  bypass('CASE', "SELECT CASE WHEN id > 0 THEN ssn ELSE 'none' END AS s FROM users",
    [col('s')], [out([users('id'), users('ssn')], { name: 's' })], [SSN], ['****']),
  bypass('scalar subquery', 'SELECT (SELECT email FROM users LIMIT 1) AS e',
    [col('e')], [out([users('email')], { direct: true, name: 'e' })], [EMAIL], ['a***@example.com']),
  bypass('CTE passing the column through (origin resolved by the database)', 'WITH x AS (SELECT email AS e FROM users) SELECT e FROM x',
    [col('e', 'text', users('email'))], [out([users('email')], { direct: true, name: 'e' })], [EMAIL], ['a***@example.com']),
  bypass('CTE with an expression', 'WITH x AS (SELECT upper(email) AS e FROM users) SELECT e FROM x',
    [col('e')], [out([users('email')], { name: 'e' })], [EMAIL.toUpperCase()], ['****']),
  bypass('UNION with a harmless column', 'SELECT note FROM orders UNION SELECT email FROM users',
    [col('note')], [out([orders('note'), users('email')], { name: 'note' })], [EMAIL], ['****'],
    { reads: [...readsOrders, ...readsUsers] }),
  bypass('INTERSECT', 'SELECT email FROM users INTERSECT SELECT note FROM orders',
    [col('email')], [out([users('email'), orders('note')], { name: 'email' })], [EMAIL], ['****'],
    { reads: [...readsOrders, ...readsUsers] }),
  bypass('derived table', 'SELECT e FROM (SELECT upper(email) AS e FROM users) d',
    [col('e')], [out([users('email')], { name: 'e' })], [EMAIL], ['****']),
  bypass('SELECT * (expands + origins)', 'SELECT * FROM users',
    [col('id', 'int4', users('id')), col('email', 'text', users('email')), col('ssn', 'text', users('ssn')), col('name', 'text', users('name'))],
    [out([{ schema: 'public', table: 'users', column: '*' }], { direct: true, expands: true })],
    ['1', EMAIL, SSN, 'Alice'], ['1', 'a***@example.com', '*******6789', 'Alice']),
  bypass('t.* beside an expression and another t.*', 'SELECT o.*, lower(u.email) AS e, u.* FROM orders o JOIN users u ON u.id = o.user_id',
    [col('id', 'int4', orders('id')), col('user_id', 'int4', orders('user_id')), col('total', 'numeric', orders('total')), col('note', 'text', orders('note')),
      col('e'),
      col('id', 'int4', users('id')), col('email', 'text', users('email')), col('ssn', 'text', users('ssn')), col('name', 'text', users('name'))],
    [out([{ schema: 'public', table: 'orders', column: '*' }], { direct: true, expands: true }), out([users('email')], { name: 'e' }),
      out([{ schema: 'public', table: 'users', column: '*' }], { direct: true, expands: true })],
    ['10', '1', '42.50', 'first', EMAIL, '1', EMAIL, SSN, 'Alice'],
    ['10', '1', '42.50', 'first', '****', '1', 'a***@example.com', '*******6789', 'Alice'],
    { reads: [...readsOrders, ...readsUsers] }),
  bypass('SELECT * over a derived table without origins', 'SELECT * FROM (SELECT id, lower(email) AS e FROM users) d',
    [col('id', 'int4'), col('e')], [out([users('id'), users('email')], { expands: true })],
    ['1', EMAIL], ['1', '****']),
  bypass('whole row: row_to_json(u)', 'SELECT row_to_json(u) AS j FROM users u',
    [col('j', 'json')], [out([{ schema: 'public', table: 'users', column: '*' }], { name: 'j' })],
    [`{"id":1,"email":"${EMAIL}"}`], ['"****"']),
  bypass('whole row: SELECT u FROM users u', 'SELECT u FROM users u',
    [col('u', 'record')], [out([{ schema: 'public', table: 'users', column: '*' }], { name: 'u' })],
    [`(1,${EMAIL},${SSN},Alice)`], ['****']),
  bypass('MySQL JSON_OBJECT', "SELECT JSON_OBJECT('e', email) AS j FROM users",
    [col('j', 'json')], [out([{ schema: 'app', table: 'users', column: 'email' }], { name: 'j' })],
    [`{"e": "${EMAIL}"}`], ['"****"'], { protocol: 'mysql', reads: [{ schema: 'app', name: 'users' }] }),
  bypass('string_agg', "SELECT string_agg(email, ',') AS all FROM users",
    [col('all')], [out([users('email')], { name: 'all' })], [`${EMAIL},bob@example.org`], ['****']),
  bypass('array_agg', 'SELECT array_agg(ssn) AS a FROM users',
    [col('a', '_text')], [out([users('ssn')], { name: 'a' })], [`{${SSN}}`], ['{}']),
  bypass('json_agg of whole rows', 'SELECT json_agg(u) AS j FROM users u',
    [col('j', 'json')], [out([{ schema: 'public', table: 'users', column: '*' }], { name: 'j' })],
    [`[{"email":"${EMAIL}"}]`], ['"****"']),
  bypass('MySQL GROUP_CONCAT', 'SELECT GROUP_CONCAT(email) AS g FROM users',
    [col('g', 'mediumtext')], [out([{ schema: 'app', table: 'users', column: 'email' }], { name: 'g' })], [EMAIL], ['****'],
    { protocol: 'mysql', reads: [{ schema: 'app', name: 'users' }] }),
  bypass('RETURNING', "UPDATE users SET name = 'x' WHERE id = 1 RETURNING id, email",
    [col('id', 'int4', users('id')), col('email', 'text', users('email'))],
    [out([users('id')], { direct: true }), out([users('email')], { direct: true })],
    ['1', EMAIL], ['1', 'a***@example.com'],
    { source: 'returning', kind: 'update', command: 'update', writes: readsUsers }),
  bypass('COPY table TO STDOUT (no column names on the wire)', 'COPY users TO STDOUT',
    [col(''), col(''), col(''), col('')], [out([{ schema: 'public', table: 'users', column: '*' }], { direct: true, expands: true })],
    ['1', EMAIL, SSN, 'Alice'], ['****', '****', '****', '****'],
    { source: 'copy', kind: 'copy', command: 'copy_to_stdout' }),
  bypass('COPY (query) TO STDOUT', 'COPY (SELECT id, lower(email) FROM users) TO STDOUT',
    [col(''), col('')], [out([users('id')], { direct: true }), out([users('email')])],
    ['1', EMAIL], ['1', '****'],
    { source: 'copy', kind: 'copy', command: 'copy_to_stdout' }),
];
