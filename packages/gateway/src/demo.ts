import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, parseConfig } from '@querygate/core';
import { freePort, startPostgres, type PostgresServer } from '@querygate/services';
import { waitForSignal } from './cli';
import { GatewayServer } from './GatewayServer';

const SAMPLE_DATA = `
CREATE TABLE IF NOT EXISTS users (
  id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL, ssn text, created_at timestamptz DEFAULT now());
CREATE TABLE IF NOT EXISTS orders (
  id serial PRIMARY KEY, user_id int REFERENCES users(id), total numeric(10,2), status text);
INSERT INTO users (name, email, ssn) VALUES
  ('Ada Lovelace', 'ada@example.com', '123-45-6789'),
  ('Alan Turing', 'alan@example.org', '987-65-4321'),
  ('Grace Hopper', 'grace@example.net', '555-12-3456');
INSERT INTO orders (user_id, total, status) VALUES (1, 42.50, 'paid'), (2, 17.00, 'open'), (3, 99.99, 'paid');
CREATE OR REPLACE VIEW customer_contacts AS
  SELECT u.id, u.name, lower(u.email) AS contact, o.total FROM users u JOIN orders o ON o.user_id = u.id;
`;

async function portOr(preferred: number): Promise<number> {
  const net = await import('node:net');
  return new Promise((done) => {
    const probe = net.createServer();
    probe.once('error', () => { void freePort().then(done); });
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => done(preferred)));
  });
}

/**
 * `querygate demo`: a throwaway PostgreSQL with sample data and a gateway in front of it, on the
 * embedded demo config; runs until Ctrl-C, then stops both.
 */
export async function runDemo(args: readonly string[]): Promise<number> {
  const root = resolve(__dirname, '..', '..', '..');
  const demoDir = join(root, '.demo');
  mkdirSync(demoDir, { recursive: true });
  process.stderr.write('querygate demo: starting a local PostgreSQL with sample data...\n');
  let pg: PostgresServer | undefined;
  try {
    pg = await startPostgres({ name: 'demo' });
    await pg.psql(SAMPLE_DATA, { user: 'app' });
    const port = await portOr(15432);
    const adminPort = await portOr(8080);
    const password = args.includes('--password') ? args[args.indexOf('--password') + 1]! : 'demo';
    const file = join(__dirname, '..', 'demo', 'querygate.demo.yaml');
    const text = readFileSync(file, 'utf8')
      .replace('{{port}}', String(port))
      .replace('{{upstreamPort}}', String(pg.port))
      .replace('{{adminPort}}', String(adminPort));
    const env = { ...process.env, QG_DEMO_UPSTREAM_PASSWORD: pg.users.app.password, QG_DEMO_PASSWORD: password, QG_DEMO_MASKING_KEY: randomBytes(16).toString('hex') };
    const loaded = parseConfig(text, file, { env });
    const server = await GatewayServer.create({ config: loaded.config, configFile: file, lineOf: loaded.lineOf });
    await server.start();
    process.stderr.write(`
querygate demo is running (config: ${file}).
  try:    PGPASSWORD=${password} psql "host=127.0.0.1 port=${port} user=demo dbname=app sslmode=disable"
          then:  SELECT * FROM users;     (emails and SSNs masked; user "dba" sees them in clear)
                 SELECT * FROM customer_contacts;   (a view: masked through its definition)
                 DROP DATABASE app;       (refused by a guardrail)
                 DELETE FROM orders;      (waits for approval: approve it in the console below)
  approvals console: http://127.0.0.1:${adminPort}/console/approvals  (log in as dba / ${password})
  sessions console:  http://127.0.0.1:${adminPort}/console/sessions
  audit:  ${loaded.config.audit.sinks.map((s) => (s.type === 'file' ? s.path : s.type)).join(', ')}
Ctrl-C stops the gateway and the demo database.
`);
    const code = await waitForSignal(server);
    return code;
  } catch (err) {
    if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`querygate demo: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  } finally {
    await pg?.stop().catch(() => undefined);
  }
}
