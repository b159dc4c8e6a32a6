// The other half of "cannot be talked around": ordinary traffic is never refused. pgbench and
// sysbench workloads, the queries ORMs and psql's \d commands send, and migrations run by an identity
// the policy lets do DDL, all through a gateway with the corpus policy. Zero refusals allowed.
//
// pgbench: `pgbench -i` TRUNCATEs and DROPs tables, which the policy blocks for everyone, so the
// init runs directly against the upstream; the workload (`-n`: no VACUUM / TRUNCATE of
// pgbench_history before the run) goes through the gateway as a developer.
// sysbench: `prepare` creates the table and its index, so it runs through the gateway as the
// migrator (DDL allowed by the rule placed first); `run` goes through as a developer.
import { Client } from 'pg';
import { createConnection, type Connection } from 'mysql2/promise';
import { ensureDebianPackages } from '@querygate/services';
import { describeWith, hasService, mariadbConfig, pgClientConfig, postgresInfo } from '../../../../test/services';
import { DEV, MIGRATOR, pgBin, run, startCorpusGateway, type CorpusGateway } from './corpusGateway';

const DB = 'qg_benign';

describe('benign traffic through the corpus policy: zero false refusals', () => {
  let gw: CorpusGateway;
  const denials = async (): Promise<string[]> =>
    (await gw.newAuditEvents()).filter((e) => e.event === 'statement.denied').map((e) => `${e.rule}: ${e.statement?.text ?? ''}`);

  beforeAll(async () => {
    if (hasService('postgres')) {
      const admin = new Client(pgClientConfig('postgres'));
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${DB} OWNER app`);
      await admin.end();
    }
    if (hasService('mariadb')) {
      const admin = await createConnection(mariadbConfig('root'));
      await admin.query(`DROP DATABASE IF EXISTS ${DB}`);
      await admin.query(`CREATE DATABASE ${DB}`);
      await admin.end();
    }
    gw = await startCorpusGateway({ postgres: hasService('postgres'), mysql: hasService('mariadb'), superuserUpstream: true });
  });

  afterAll(async () => {
    await gw?.stop();
    if (hasService('postgres')) {
      const admin = new Client(pgClientConfig('postgres'));
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`).catch(() => undefined);
      await admin.end();
    }
    if (hasService('mariadb')) {
      const admin = await createConnection(mariadbConfig('root'));
      await admin.query(`DROP DATABASE IF EXISTS ${DB}`).catch(() => undefined);
      await admin.end();
    }
  });

  describeWith('postgres')('PostgreSQL', () => {
    const gatewayEnv = (user = DEV): Record<string, string> => ({
      PGHOST: '127.0.0.1', PGPORT: String(gw.pgPort), PGUSER: user.name, PGPASSWORD: user.password, PGDATABASE: DB, PGSSLMODE: 'disable',
    });
    const pgClient = async (user = DEV): Promise<Client> => {
      const c = new Client({ host: '127.0.0.1', port: gw.pgPort, user: user.name, password: user.password, database: DB, ssl: false });
      await c.connect();
      return c;
    };

    it('pgbench -M simple and -M prepared run every transaction', async () => {
      const pg = postgresInfo();
      const init = await run(pgBin('pgbench'), ['-i', '-s', '1', '-q'], {
        PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: 'app', PGPASSWORD: pg.users.app.password, PGDATABASE: DB, PGSSLMODE: 'disable',
      }, '', 120_000);
      expect(init.code).toBe(0);
      for (const mode of ['simple', 'prepared']) {
        const r = await run(pgBin('pgbench'), ['-n', '-t', '50', '-M', mode], gatewayEnv(), '', 60_000);
        expect({ mode, code: r.code, stderr: r.stderr }).toEqual({ mode, code: 0, stderr: '' });
        expect(r.stdout).toMatch(/number of transactions actually processed: 50\/50/);
        expect(r.stdout).toMatch(/number of failed transactions: 0 /);
      }
      expect(await denials()).toEqual([]);
    }, 90_000);

    it('the migrator runs DDL migrations; a developer runs ORM-style queries', async () => {
      const migrator = await pgClient(MIGRATOR);
      for (const sql of [
        'CREATE TABLE customers (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL, name text, created_at timestamptz DEFAULT now())',
        'CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint REFERENCES customers(id), total numeric(10,2), status text)',
        'CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id)',
        "ALTER TABLE customers ADD COLUMN tier text DEFAULT 'basic'",
        'CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100',
        'COMMENT ON TABLE orders IS $$orders placed by customers$$',
      ]) await migrator.query(sql);
      await migrator.end();

      const c = await pgClient();
      const id = (await c.query<{ id: string }>('INSERT INTO customers (email, name) VALUES ($1, $2) RETURNING id', ['ann@example.com', "Ann O'Brien; CEO"])).rows[0]!.id;
      await c.query('INSERT INTO customers (email, name) VALUES ($1, $2) ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name', ['ann@example.com', 'Ann']);
      await c.query("INSERT INTO customers (email, name) VALUES ('bob@example.com', 'it''s; fine -- really /* ok */') ON CONFLICT DO NOTHING");
      await c.query('BEGIN');
      await c.query('INSERT INTO orders (customer_id, total, status) VALUES ($1, $2, $3), ($1, $4, $3)', [id, 120.5, 'new', 30]);
      await c.query('SAVEPOINT before_update');
      await c.query('UPDATE orders SET status = $1 WHERE customer_id = $2 AND total > $3', ['big', id, 100]);
      await c.query('ROLLBACK TO SAVEPOINT before_update');
      await c.query('UPDATE orders SET status = $1 WHERE id = $2', ['paid', 1]);
      await c.query('RELEASE SAVEPOINT before_update');
      await c.query('COMMIT');
      const joined = await c.query('SELECT c.name, o.total, o.status FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.email = $1 ORDER BY o.total DESC LIMIT $2 OFFSET $3', ['ann@example.com', 10, 0]);
      expect(joined.rows).toHaveLength(2);
      expect((await c.query('SELECT count(*)::int AS n FROM orders')).rows[0]).toEqual({ n: 2 });
      await c.query('SELECT * FROM big_orders');
      await c.query('DELETE FROM orders WHERE status = $1', ['cancelled']);
      await c.query('WITH recent AS (SELECT id FROM orders ORDER BY id DESC LIMIT 5) SELECT count(*) FROM recent');
      // What ORMs send to learn the schema.
      await c.query("SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position");
      await c.query("SELECT tc.constraint_name, kcu.column_name FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name WHERE tc.table_name = $1", ['orders']);
      await c.query("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a WHERE a.attrelid = 'public.orders'::regclass AND a.attnum > 0 AND NOT a.attisdropped");
      await c.query('SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1', ['orders']);
      await c.query('SELECT current_schema(), version(), current_setting($1)', ['server_version_num']);
      await c.query('SET application_name = $$orm$$');
      await c.query('SHOW search_path');
      await c.end();

      // psql's describe commands (pg_catalog introspection through libpq).
      const psql = await run(pgBin('psql'), ['-X', '-v', 'ON_ERROR_STOP=1', '-c', '\\d orders', '-c', '\\dt', '-c', '\\di', '-c', '\\dv', '-c', '\\dn', '-c', '\\df', '-c', '\\l', '-c', '\\du', '-c', '\\d+ customers'], gatewayEnv());
      expect(psql.stderr).toBe('');
      expect(psql.code).toBe(0);
      expect(psql.stdout).toContain('orders_customer_idx');
      expect(await denials()).toEqual([]);
    });
  });

  describeWith('mariadb')('MySQL / MariaDB', () => {
    const mysql = async (user = DEV): Promise<Connection> =>
      createConnection({ host: '127.0.0.1', port: gw.mysqlPort, user: user.name, password: user.password, database: DB, multipleStatements: true });

    it('sysbench oltp_read_write runs without errors', async () => {
      await ensureDebianPackages(['sysbench']);
      const common = ['--db-driver=mysql', '--mysql-host=127.0.0.1', `--mysql-port=${gw.mysqlPort}`, `--mysql-db=${DB}`, '--tables=1', '--table-size=1000'];
      const as = (user = DEV): string[] => [...common, `--mysql-user=${user.name}`, `--mysql-password=${user.password}`];
      const prepared = await run('sysbench', ['oltp_read_write', ...as(MIGRATOR), 'prepare'], {}, '', 120_000);
      expect({ code: prepared.code, stderr: prepared.stderr }).toEqual({ code: 0, stderr: '' });
      const r = await run('sysbench', ['oltp_read_write', ...as(), '--time=3', '--threads=1', 'run'], {}, '', 60_000);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      expect(Number(/transactions:\s+(\d+)/.exec(r.stdout)?.[1])).toBeGreaterThan(10);
      expect(Number(/ignored errors:\s+(\d+)/.exec(r.stdout)?.[1])).toBe(0);
      expect(await denials()).toEqual([]);
    }, 120_000);

    it('the migrator runs DDL migrations; a developer runs ORM-style queries', async () => {
      const migrator = await mysql(MIGRATOR);
      for (const sql of [
        'CREATE TABLE customers (id BIGINT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(100) UNIQUE NOT NULL, name VARCHAR(100), created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)',
        'CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id BIGINT, total DECIMAL(10,2), status VARCHAR(20), FOREIGN KEY (customer_id) REFERENCES customers(id))',
        'CREATE INDEX orders_status_idx ON orders (status)',
        "ALTER TABLE customers ADD COLUMN tier VARCHAR(20) DEFAULT 'basic'",
        'CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100',
      ]) await migrator.query(sql);
      await migrator.end();

      const c = await mysql();
      const refused: string[] = [];
      // Every statement is tried, so one run lists every false refusal, not only the first.
      const benign = async <T>(fn: () => Promise<T>): Promise<T | undefined> => {
        try {
          return await fn();
        } catch (err) {
          // mysql2 errors carry the SQL as sent (values inlined by query()).
          refused.push(`${(err as { sql?: string }).sql ?? '?'}: ${(err as Error).message}`);
          return undefined;
        }
      };
      const [inserted] = await c.execute('INSERT INTO customers (email, name) VALUES (?, ?)', ['ann@example.com', "Ann O'Brien"]);
      const id = (inserted as { insertId: number }).insertId;
      await benign(() => c.execute('INSERT INTO customers (email, name) VALUES (?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name)', ['ann@example.com', 'Ann']));
      // query() with values: mysql2 inlines them, escaping quotes with backslashes.
      await benign(() => c.query('INSERT INTO customers (email, name) VALUES (?, ?)', ['bob@example.com', "it's; fine -- really"]));
      await benign(() => c.query('INSERT INTO customers (email, name) VALUES (?, ?)', ['cy@example.com', 'back\\slash; ok']));
      await benign(() => c.beginTransaction());
      await benign(() => c.execute('INSERT INTO orders (customer_id, total, status) VALUES (?, ?, ?), (?, ?, ?)', [id, 120.5, 'new', id, 30, 'new']));
      await benign(() => c.query('SAVEPOINT before_update'));
      await benign(() => c.execute('UPDATE orders SET status = ? WHERE customer_id = ? AND total > ?', ['big', id, 100]));
      await benign(() => c.query('ROLLBACK TO SAVEPOINT before_update'));
      await benign(() => c.execute('UPDATE orders SET status = ? WHERE id = ?', ['paid', 1]));
      await benign(() => c.query('RELEASE SAVEPOINT before_update'));
      await benign(() => c.commit());
      const [joined] = await c.execute('SELECT c.name, o.total, o.status FROM customers c JOIN orders o ON o.customer_id = c.id WHERE c.email = ? ORDER BY o.total DESC LIMIT 10 OFFSET 0', ['ann@example.com']);
      expect(joined).toHaveLength(2);
      const [count] = await c.query('SELECT COUNT(*) AS n FROM orders');
      expect(count).toEqual([{ n: 2 }]);
      await benign(() => c.query('SELECT * FROM big_orders'));
      await benign(() => c.execute('DELETE FROM orders WHERE status = ?', ['cancelled']));
      // What ORMs send to learn the schema.
      await benign(() => c.query('SHOW TABLES'));
      await benign(() => c.query('SHOW FULL COLUMNS FROM orders'));
      await benign(() => c.query('DESCRIBE customers'));
      await benign(() => c.query('SHOW INDEX FROM orders'));
      await benign(() => c.execute('SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION', [DB]));
      await benign(() => c.execute('SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [DB, 'orders']));
      await benign(() => c.query('SELECT DATABASE(), VERSION(), @@sql_mode, @@autocommit'));
      await benign(() => c.query("SET NAMES utf8mb4; SET SESSION sql_mode = 'STRICT_TRANS_TABLES'"));
      await c.end();
      expect(refused).toEqual([]);

      // The mariadb CLI, as a person would use it.
      const cli = await run('mariadb', ['--no-defaults', '--protocol=TCP', '-h', '127.0.0.1', '-P', String(gw.mysqlPort), '-u', DEV.name, `-p${DEV.password}`, '--batch', DB],
        {}, "SHOW TABLES;\nSELECT COUNT(*) FROM customers;\nSELECT name FROM customers WHERE email = 'bob@example.com';\n");
      expect({ code: cli.code, stderr: cli.stderr }).toEqual({ code: 0, stderr: '' });
      expect(cli.stdout).toContain("it's; fine -- really");
      expect(await denials()).toEqual([]);
    });
  });
});
