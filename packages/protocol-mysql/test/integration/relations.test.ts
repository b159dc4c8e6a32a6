// MysqlRelations against the harness MariaDB: what information_schema gives for tables and views
// (over views, computed, renamed, in another schema, joined), how names resolve, when snapshots
// reload; then the session hooks through a real gateway and mysql2.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import {
  definePlugin, Gateway, GatewayError, parseConfig, RelationCatalogCapability, silentLogger,
  type Identity, type RelationCatalogs, type RelationInfo, type Session, type UpstreamConfig,
} from '@querygate/core';
import { MysqlAnalyzer } from '../../src/analysis/MysqlAnalyzer';
import { createMysqlListenerWith } from '../../src';
import { MysqlRelations, readCatalog, type CatalogRows } from '../../src/session/Relations';
import { describeWith, mariadbConfig, mariadbInfo } from '../../../../test/services';

const DB = 'qgr_rel';
const OTHER = 'qgr_rel_b';

function upstreamConfig(port = mariadbInfo().port, tls = 'disable', password = mariadbInfo().users.app.password): UpstreamConfig {
  const maria = mariadbInfo();
  const yaml = `
gateway: { id: relations-test, dataDir: /tmp }
listeners:
  - name: mysql
    protocol: mysql
    listen: 127.0.0.1:0
    upstream: { host: ${maria.host}, port: ${port}, user: app, password: "\${env:PW}", tls: { mode: ${tls} }, connectTimeout: 2s }
`;
  return parseConfig(yaml, 'test.yaml', { env: { PW: password } }).config.listeners[0]!.upstream;
}

const identity: Identity = { subject: 'tester', groups: [], method: 'local', claims: {} };
function session(id: string): Session {
  return {
    id, identity, protocol: 'mysql', listener: 'mysql', database: DB, clientAddress: '127.0.0.1:1',
    startedAt: new Date(), clientParameters: {}, tls: false, state: new Map(),
  };
}

async function seed(): Promise<void> {
  const root = await createConnection({ ...mariadbConfig('root', 'mysql'), multipleStatements: true });
  try {
    const grants = [DB, OTHER].flatMap((db) => ['%', '127.0.0.1', 'localhost'].map((h) => `GRANT ALL ON ${db}.* TO 'app'@'${h}'`)).join('; ');
    await root.query(`DROP DATABASE IF EXISTS ${DB}; DROP DATABASE IF EXISTS ${OTHER}; CREATE DATABASE ${DB}; CREATE DATABASE ${OTHER}; ${grants}`);
  } finally {
    await root.end();
  }
  const app = await createConnection({ ...mariadbConfig('app', DB), multipleStatements: true });
  try {
    await app.query([
      'CREATE TABLE qgr_people (id INT PRIMARY KEY, name VARCHAR(40), email VARCHAR(80), ssn VARCHAR(16))',
      'CREATE TABLE qgr_orders (id INT PRIMARY KEY, user_id INT, total DECIMAL(10,2))',
      "INSERT INTO qgr_people VALUES (1, 'Ann', 'ann@example.com', '123-45-6789')",
      'CREATE VIEW v_contact AS SELECT email AS contact, id FROM qgr_people',
      'CREATE VIEW v_over (c2, i2) AS SELECT contact, id FROM v_contact',
      "CREATE VIEW v_calc AS SELECT CONCAT(email, '') AS e, id + 1 AS n FROM qgr_people WHERE id > 0",
      'CREATE VIEW v_join AS SELECT p.email, o.total FROM qgr_people p JOIN qgr_orders o ON o.user_id = p.id',
      `CREATE VIEW ${OTHER}.v_far AS SELECT email AS mail FROM ${DB}.qgr_people`,
      'CREATE VIEW qgr_dup AS SELECT ssn AS tag FROM qgr_people',
      `CREATE TABLE ${OTHER}.qgr_dup (tag VARCHAR(10), note VARCHAR(10))`,
    ].join(';\n'));
  } finally {
    await app.end();
  }
}

async function drop(): Promise<void> {
  const root = await createConnection({ ...mariadbConfig('root', 'mysql'), multipleStatements: true });
  await root.query(`DROP DATABASE IF EXISTS ${DB}; DROP DATABASE IF EXISTS ${OTHER}`).catch(() => undefined);
  await root.end();
}

const col = (schema: string, table: string, column: string) => ({ schema, table, column });

describeWith('mariadb')('MysqlRelations', () => {
  let analyzer: MysqlAnalyzer;
  let relations: MysqlRelations;
  let app: Connection;
  const s1 = session('s1');
  const s2 = session('s2');

  beforeAll(async () => {
    await seed();
    analyzer = await MysqlAnalyzer.load();
    relations = new MysqlRelations(analyzer, () => readCatalog(upstreamConfig(), 'mysql'));
    app = await createConnection({ ...mariadbConfig('app', DB), multipleStatements: true });
  }, 60_000);
  afterAll(async () => {
    await app?.end();
    await drop();
  });

  it('knows nothing before the first load, then answers from the snapshot without waiting', async () => {
    expect(relations.describe({ schema: DB, name: 'qgr_people' }, s1)).toBeUndefined();
    const statements = analyzer.analyze('SELECT contact FROM v_contact');
    const ready = relations.ready(s1, statements);
    expect(ready).toBeInstanceOf(Promise);
    await ready;
    expect(relations.version).toBe(1);
    expect(relations.ready(s1, statements)).toBeUndefined();
    expect(relations.describe({ schema: DB, name: 'qgr_people' }, s1)).toEqual({ kind: 'table', columns: ['id', 'name', 'email', 'ssn'] });
  });

  it('pairs view columns with their definition: renamed, over a view, computed', () => {
    expect(relations.describe({ schema: DB, name: 'v_contact' }, s1)).toEqual({
      kind: 'view', complete: true, reads: [{ schema: DB, name: 'qgr_people' }],
      columns: [
        { name: 'contact', sources: [col(DB, 'qgr_people', 'email')], direct: true },
        { name: 'id', sources: [col(DB, 'qgr_people', 'id')], direct: true },
      ],
    });
    // CREATE VIEW v (c2, i2): the names come from COLUMNS, the sources from the definition.
    expect(relations.describe({ schema: DB, name: 'v_over' }, s1)).toEqual({
      kind: 'view', complete: true, reads: [{ schema: DB, name: 'v_contact' }],
      columns: [
        { name: 'c2', sources: [col(DB, 'v_contact', 'contact')], direct: true },
        { name: 'i2', sources: [col(DB, 'v_contact', 'id')], direct: true },
      ],
    });
    expect(relations.describe({ schema: DB, name: 'v_calc' }, s1)).toEqual({
      kind: 'view', complete: true, reads: [{ schema: DB, name: 'qgr_people' }],
      columns: [
        { name: 'e', sources: [col(DB, 'qgr_people', 'email')], direct: false },
        { name: 'n', sources: [col(DB, 'qgr_people', 'id')], direct: false },
      ],
    });
  });

  it('follows a join view, which MariaDB prints with the join in parentheses', () => {
    expect(relations.describe({ schema: DB, name: 'v_join' }, s1)).toEqual({
      kind: 'view', complete: true, reads: [{ schema: DB, name: 'qgr_people' }, { schema: DB, name: 'qgr_orders' }],
      columns: [
        { name: 'email', sources: [col(DB, 'qgr_people', 'email')], direct: true },
        { name: 'total', sources: [col(DB, 'qgr_orders', 'total')], direct: true },
      ],
    });
  });

  it('names what a definition the analyser cannot follow reads, and each column may carry any of it', async () => {
    // A text no server prints: the analyser reads nothing from it, the snapshot still knows the names.
    const rows: CatalogRows = {
      relations: [['s', 't', 'BASE TABLE'], ['s', 'u', 'BASE TABLE'], ['s', 'v', 'VIEW'], ['s', 'hidden', 'VIEW']],
      columns: [['s', 't', 'a'], ['s', 'u', 'b'], ['s', 'v', 'x'], ['s', 'v', 'y'], ['s', 'hidden', 'z']],
      views: [['s', 'v', 'select `s`.`t`.`a` AS `x` frob `s`.`t` natural `s`.`u`'], ['s', 'hidden', '']],
    };
    const synthetic = new MysqlRelations(analyzer, async () => rows);
    await synthetic.ready(s1, []);
    const info = synthetic.describe({ schema: 's', name: 'v' }, s1) as Extract<RelationInfo, { kind: 'view' }>;
    expect(info.complete).toBe(false);
    expect(info.reads).toEqual(expect.arrayContaining([{ schema: 's', name: 't' }, { schema: 's', name: 'u' }]));
    for (const c of info.columns) expect(c.sources).toEqual(expect.arrayContaining([col('s', 't', '*'), col('s', 'u', '*')]));
    // A definition this user is not shown (no SHOW VIEW): unknown, so masking's fallback applies.
    expect(synthetic.describe({ schema: 's', name: 'hidden' }, s1)).toBeUndefined();
    expect(synthetic.describe({ name: 'hidden' }, s1)).toBeUndefined();
  });

  it('resolves views in another schema, qualified, unqualified, and as MariaDB names a view column origin', () => {
    const far = relations.describe({ schema: OTHER, name: 'v_far' }, s1);
    expect(far).toEqual({
      kind: 'view', complete: true, reads: [{ schema: DB, name: 'qgr_people' }],
      columns: [{ name: 'mail', sources: [col(DB, 'qgr_people', 'email')], direct: true }],
    });
    expect(relations.describe({ name: 'v_far' }, s1)).toEqual(far);
    expect(relations.describe({ name: 'V_FAR' }, s1)).toEqual(far);
    // A result column of `SELECT mail FROM qgr_rel_b.v_far` has db = qgr_rel (the base table's) and
    // org_table = v_far: the view is still found.
    expect(relations.describe({ schema: DB, name: 'v_far' }, s1)).toEqual(far);
    // Only views stand in for a name the schema lacks: a table elsewhere is another relation.
    expect(relations.describe({ schema: 'qgr_none', name: 'qgr_people' }, s1)).toBeUndefined();
  });

  it('merges every schema\'s relation of an unqualified name: the view\'s sources and the table\'s own columns', () => {
    const merged = relations.describe({ name: 'qgr_dup' }, s1) as Extract<RelationInfo, { kind: 'view' }>;
    expect(merged.kind).toBe('view');
    expect(merged.reads).toEqual(expect.arrayContaining([{ schema: DB, name: 'qgr_people' }, { schema: OTHER, name: 'qgr_dup' }]));
    const byName = new Map(merged.columns.map((c) => [c.name, c]));
    expect(byName.get('tag')?.sources).toEqual(expect.arrayContaining([col(DB, 'qgr_people', 'ssn'), col(OTHER, 'qgr_dup', 'tag')]));
    expect(byName.get('tag')?.direct).toBe(false);
    expect(byName.get('note')).toEqual({ name: 'note', sources: [col(OTHER, 'qgr_dup', 'note')], direct: true });
    // Qualified, each is itself.
    expect(relations.describe({ schema: OTHER, name: 'qgr_dup' }, s1)).toEqual({ kind: 'table', columns: ['tag', 'note'] });
  });

  it('answers the server\'s own schemas as tables and does not know what does not exist', () => {
    expect(relations.describe({ schema: 'mysql', name: 'user' }, s1)).toEqual({ kind: 'table' });
    expect(relations.describe({ schema: 'information_schema', name: 'TABLES' }, s1)).toEqual({ kind: 'table' });
    expect(relations.describe({ schema: 'sys', name: 'anything' }, s1)).toEqual({ kind: 'table' });
    expect(relations.describe({ name: 'COLUMNS' }, s1)).toMatchObject({ kind: 'table' });
    expect(relations.describe({ name: 'qgr_no_such' }, s1)).toBeUndefined();
    expect(relations.describe({ schema: DB, name: 'qgr_no_such' }, s1)).toBeUndefined();
  });

  it('reloads after DDL completed (CREATE OR REPLACE VIEW) before the next statement is judged', async () => {
    await app.query('CREATE OR REPLACE VIEW v_swap AS SELECT name AS x FROM qgr_people');
    const create = analyzer.analyze('CREATE OR REPLACE VIEW v_swap AS SELECT name AS x FROM qgr_people');
    expect(relations.changesRelations(create)).toBe(true);
    relations.completed(s1, create);
    const select = analyzer.analyze('SELECT x FROM v_swap');
    const before = relations.version;
    await relations.ready(s2, select);
    expect(relations.version).toBe(before + 1);
    expect(relations.describe({ name: 'v_swap' }, s2)).toMatchObject({ columns: [{ name: 'x', sources: [col(DB, 'qgr_people', 'name')] }] });

    await app.query('CREATE OR REPLACE VIEW v_swap AS SELECT email AS x FROM qgr_people');
    relations.completed(s1, analyzer.analyze('CREATE OR REPLACE VIEW v_swap AS SELECT email AS x FROM qgr_people'));
    await relations.ready(s1, select);
    expect(relations.version).toBe(before + 2);
    expect(relations.describe({ name: 'v_swap' }, s1)).toMatchObject({ columns: [{ name: 'x', sources: [col(DB, 'qgr_people', 'email')] }] });
    // Statements that change nothing leave the snapshot as it is.
    relations.completed(s1, analyzer.analyze('SELECT 1'));
    expect(relations.ready(s1, select)).toBeUndefined();
  });

  it('never judges a statement after DDL on a snapshot read before it, even one already loading', async () => {
    await app.query('CREATE OR REPLACE VIEW v_race AS SELECT name AS x FROM qgr_people');
    let read!: () => void;
    const wasRead = new Promise<void>((r) => { read = r; });
    let release!: () => void;
    const released = new Promise<void>((r) => { release = r; });
    let reads = 0;
    const slow = new MysqlRelations(analyzer, async () => {
      const rows = await readCatalog(upstreamConfig(), 'mysql');
      if (reads++ === 0) { read(); await released; }
      return rows;
    });
    const select = analyzer.analyze('SELECT x FROM v_race');
    const first = slow.ready(s1, select);
    await wasRead;
    // The DDL completes while that load (which read the old definition) is still under way.
    await app.query('CREATE OR REPLACE VIEW v_race AS SELECT email AS x FROM qgr_people');
    slow.completed(s1, analyzer.analyze('CREATE OR REPLACE VIEW v_race AS SELECT email AS x FROM qgr_people'));
    const second = slow.ready(s1, select);
    release();
    await first;
    await second;
    expect(reads).toBe(2);
    expect(slow.describe({ name: 'v_race' }, s1)).toMatchObject({ columns: [{ name: 'x', sources: [col(DB, 'qgr_people', 'email')] }] });
  });

  it('reloads, at most once a second, when a statement reads a relation the snapshot lacks', async () => {
    await relations.ready(s1, analyzer.analyze('SELECT 1'));
    const loaded = relations.version;
    // Made without this gateway seeing the DDL.
    await app.query('CREATE OR REPLACE VIEW v_later AS SELECT ssn AS s FROM qgr_people');
    const select = analyzer.analyze('SELECT s FROM v_later');
    await new Promise((r) => setTimeout(r, 1100));
    const ready = relations.ready(s1, select);
    expect(ready).toBeInstanceOf(Promise);
    await ready;
    expect(relations.version).toBe(loaded + 1);
    expect(relations.describe({ name: 'v_later' }, s1)).toMatchObject({ kind: 'view', columns: [{ name: 's', sources: [col(DB, 'qgr_people', 'ssn')] }] });
    // Still unknown after a reload: the next statement goes on (and masking refuses it) without waiting.
    const missing = analyzer.analyze('SELECT * FROM qgr_never_made');
    await new Promise((r) => setTimeout(r, 1100));
    await relations.ready(s1, missing);
    expect(relations.ready(s1, missing)).toBeUndefined();
    expect(relations.describe({ name: 'qgr_never_made' }, s1)).toBeUndefined();
  });

  it('keeps temporary tables to their session, and hides relations a message changes from the rest of that message', async () => {
    relations.completed(s1, analyzer.analyze('CREATE TEMPORARY TABLE qgr_tmp (a INT)'));
    expect(relations.describe({ name: 'qgr_tmp' }, s1)).toEqual({ kind: 'table' });
    expect(relations.describe({ name: 'qgr_tmp' }, s2)).toBeUndefined();
    await relations.ready(s1, analyzer.analyze('SELECT 1'));
    expect(relations.ready(s1, analyzer.analyze('SELECT a FROM qgr_tmp'))).toBeUndefined();

    const batch = analyzer.analyze('CREATE OR REPLACE VIEW v_contact AS SELECT ssn AS contact, id FROM qgr_people; SELECT contact FROM v_contact');
    await relations.ready(s1, batch);
    expect(relations.describe({ schema: DB, name: 'v_contact' }, s1)).toBeUndefined();
    expect(relations.describe({ schema: DB, name: 'v_contact' }, s2)).toMatchObject({ kind: 'view' });
    relations.completed(s1, batch);
    expect(relations.describe({ schema: DB, name: 'v_contact' }, s1)).toMatchObject({ kind: 'view' });
  });

  it('rejects with QG_UPSTREAM_UNAVAILABLE when the upstream cannot be reached, and tries again next time', async () => {
    const closed: Server = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const unreachable = new MysqlRelations(analyzer, () => readCatalog(upstreamConfig(port), 'mysql'));
    const statements = analyzer.analyze('SELECT * FROM v_contact');
    await expect(unreachable.ready(s1, statements)).rejects.toMatchObject({ code: 'QG_UPSTREAM_UNAVAILABLE' });
    expect(unreachable.describe({ name: 'v_contact' }, s1)).toBeUndefined();
    const again = unreachable.ready(s1, statements);
    expect(again).toBeInstanceOf(Promise);
    await expect(again).rejects.toBeInstanceOf(GatewayError);
  });

  it('logs in as the sessions do: the listener\'s TLS mode and upstream credentials', async () => {
    // The harness MariaDB offers no TLS: a catalog read must not fall back to plaintext.
    await expect(readCatalog(upstreamConfig(undefined, 'require'), 'mysql')).rejects.toMatchObject({
      code: 'QG_UPSTREAM_UNAVAILABLE', message: expect.stringContaining('does not offer TLS'),
    });
    await expect(readCatalog(upstreamConfig(undefined, 'disable', 'not-the-password'), 'mysql')).rejects.toMatchObject({ code: 'QG_UPSTREAM_REJECTED' });
    const prefer = await readCatalog(upstreamConfig(undefined, 'prefer'), 'mysql');
    expect(prefer.relations).toContainEqual([DB, 'v_contact', 'VIEW']);
    expect(prefer.views.find((v) => v[1] === 'v_contact')?.[2]).toBe(`select \`${DB}\`.\`qgr_people\`.\`email\` AS \`contact\`,\`${DB}\`.\`qgr_people\`.\`id\` AS \`id\` from \`${DB}\`.\`qgr_people\``);
  });
});

/** A TCP relay to MariaDB that can stop taking new connections (existing ones go on). */
class Relay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  accepting = true;
  port = 0;

  async start(): Promise<void> {
    const maria = mariadbInfo();
    this.server = createServer((client) => {
      if (!this.accepting) { client.destroy(); return; }
      const upstream = netConnect({ host: maria.host, port: maria.port });
      for (const s of [client, upstream]) { this.sockets.add(s); s.on('error', () => undefined); s.on('close', () => this.sockets.delete(s)); }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

describeWith('mariadb')('MySQL sessions with a relation catalog', () => {
  let relay: Relay;
  let gateway: Gateway;
  let port: number;
  let stopListener: () => Promise<void>;
  let dataDir: string;
  /** What the catalog said about `v_session` when a result set of it was planned. */
  const seen: (string | undefined)[] = [];

  beforeAll(async () => {
    await seed();
    relay = new Relay();
    await relay.start();
    dataDir = mkdtempSync(join(tmpdir(), 'qg-relations-'));
    const maria = mariadbInfo();
    const yaml = [
      'gateway:', '  id: relations-test', `  dataDir: ${JSON.stringify(dataDir)}`,
      'listeners:', '  - name: mysql', '    protocol: mysql', '    listen: 127.0.0.1:0',
      `    upstream: { host: 127.0.0.1, port: ${relay.port}, user: app, password: "\${env:PW}", tls: { mode: disable }, connectTimeout: 2s }`,
      'identities:', '  users:', '    - { name: ann, password: "${env:ANN}", groups: [] }',
      'plugins:', '  - use: catalog-probe',
      'audit: { sinks: [] }', 'logging: { level: error }', '',
    ].join('\n');
    const { config } = parseConfig(yaml, 'test.yaml', { env: { PW: maria.users.app.password, ANN: 'ann-secret-1' } });
    gateway = await Gateway.create({
      config,
      logger: silentLogger,
      auditSinks: [],
      loadPlugin: async (name) => definePlugin({
        name,
        register(ctx) {
          const catalogs = ctx.use(RelationCatalogCapability) as RelationCatalogs;
          ctx.addInterceptor({
            name: 'catalog-probe',
            onResult(result, context) {
              if (!result.statement.reads.some((r) => r.name === 'v_session')) return undefined;
              const info = catalogs.of(context.session)?.describe({ name: 'v_session' }, context.session);
              seen.push(info?.kind === 'view' ? info.columns.flatMap((c) => c.sources.map((s) => s.column)).join(',') : info?.kind);
              return undefined;
            },
          });
        },
      }),
    });
    const listener = createMysqlListenerWith({})(gateway.listenerRuntime(config.listeners[0]!));
    port = (await listener.start()).port;
    stopListener = async () => {
      gateway.beginDrain();
      await listener.drain(Date.now() + 2000);
      await gateway.shutdown();
    };
  }, 60_000);
  afterAll(async () => {
    await stopListener?.();
    await relay?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await drop();
  });

  const login = () => createConnection({ host: '127.0.0.1', port, user: 'ann', password: 'ann-secret-1', database: DB });

  it('judges and plans with the definition a view has now: created, swapped, prepared before the swap', async () => {
    const client = await login();
    try {
      await client.query('CREATE OR REPLACE VIEW v_session AS SELECT name AS x FROM qgr_people');
      await client.query('SELECT x FROM v_session');
      expect(seen.at(-1)).toBe('name');
      const [prepared] = await client.execute<RowDataPacket[]>('SELECT x FROM v_session');
      expect(prepared).toEqual([{ x: 'Ann' }]);
      expect(seen.at(-1)).toBe('name');
      await client.query('CREATE OR REPLACE VIEW v_session AS SELECT email AS x FROM qgr_people');
      // mysql2 runs the statement it prepared before the swap again.
      const [again] = await client.execute<RowDataPacket[]>('SELECT x FROM v_session');
      expect(again).toEqual([{ x: 'ann@example.com' }]);
      expect(seen.at(-1)).toBe('email');
      await client.query('SELECT x FROM v_session');
      expect(seen.at(-1)).toBe('email');
    } finally {
      await client.end();
    }
  });

  it('refuses with a protocol error, and keeps the session, when the catalog cannot be read', async () => {
    const client = await login();
    try {
      relay.accepting = false;
      // DDL makes the snapshot stale: the next statement needs a new one, and cannot have it.
      await client.query('CREATE OR REPLACE VIEW v_session AS SELECT id AS x FROM qgr_people');
      const t0 = Date.now();
      await expect(client.query('SELECT x FROM v_session')).rejects.toMatchObject({ errno: 2003, message: expect.stringContaining('catalog') });
      expect(Date.now() - t0).toBeLessThan(5000);
      relay.accepting = true;
      const [rows] = await client.query<RowDataPacket[]>('SELECT x FROM v_session');
      expect(rows).toEqual([{ x: 1 }]);
      expect(seen.at(-1)).toBe('id');
    } finally {
      relay.accepting = true;
      await client.end();
    }
  });
});
