// pgjdbc (driven by a small Java program built with Maven) through querygate: prepared statements,
// batch inserts, a ResultSet of several types, a refusal; output identical to a direct connection.
import { existsSync, statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError, Verdicts, type Interceptor } from '@querygate/core';
import { postgresInfo } from '../../../../test/services';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/testGateway';
import { run } from '../helpers/run';

const JDBC_DIR = join(__dirname, '..', 'jdbc');
const CLASS_FILE = join(JDBC_DIR, 'target', 'classes', 'querygate', 'PgProbe.class');
const SOURCE = join(JDBC_DIR, 'src', 'main', 'java', 'querygate', 'PgProbe.java');
const CLASSPATH_FILE = join(JDBC_DIR, 'target', 'classpath.txt');

/** mvn offline first (fast, no network), online when the local repository lacks something. */
async function build(): Promise<string> {
  const fresh = existsSync(CLASS_FILE) && existsSync(CLASSPATH_FILE) && statSync(CLASS_FILE).mtimeMs >= statSync(SOURCE).mtimeMs;
  if (!fresh) {
    const args = ['-q', '-B', 'compile', 'dependency:build-classpath', `-Dmdep.outputFile=${CLASSPATH_FILE}`];
    let r = await run('mvn', ['-o', ...args], { cwd: JDBC_DIR, timeoutMs: 120_000 });
    if (r.code !== 0) r = await run('mvn', args, { cwd: JDBC_DIR, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`mvn failed:\n${r.stdout}\n${r.stderr}`);
  }
  return `${join(JDBC_DIR, 'target', 'classes')}:${readFileSync(CLASSPATH_FILE, 'utf8').trim()}`;
}

const denyForbidden: Interceptor = {
  name: 'deny-forbidden',
  onStatement(statement) {
    return statement.text.includes('forbidden_table')
      ? Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', undefined, { rule: 'no-forbidden-table' }))
      : undefined;
  },
};

describe('pgjdbc through querygate', () => {
  let gw: TestGateway;
  let classpath: string;
  beforeAll(async () => {
    classpath = await build();
    gw = await startTestGateway({ interceptors: [denyForbidden] });
  }, 240_000);
  afterAll(async () => { await gw?.stop(); });

  test('the workload prints the same through querygate as directly (refusal aside)', async () => {
    const pg = postgresInfo();
    const direct = await run('java', ['-cp', classpath, 'querygate.PgProbe', `jdbc:postgresql://${pg.host}:${pg.port}/app`, 'app', pg.users.app.password, 'jdbc_direct'], { timeoutMs: 60_000 });
    const viaGw = await run('java', ['-cp', classpath, 'querygate.PgProbe', `jdbc:postgresql://${gw.host}:${gw.port}/app`, ALICE.user, ALICE.password, 'jdbc_gw'], { timeoutMs: 60_000 });
    expect(viaGw.stderr).toBe('');
    expect(viaGw.code).toBe(0);
    // Directly the table may or may not exist (another test file creates it); through querygate it is refused.
    expect(direct.stdout).toMatch(/forbidden: /);
    expect(viaGw.stdout).toContain('forbidden: 42501');
    const strip = (s: string): string => s.split('\n').filter((l) => !l.startsWith('forbidden:')).join('\n');
    expect(strip(viaGw.stdout)).toBe(strip(direct.stdout));
    expect(viaGw.stdout).toContain('batch 25');
    expect(viaGw.stdout).toContain('still here');
  });
});
