// The GitHub Actions example stays valid: its gateway config passes `querygate check-config` (with
// env values for its secrets), its guardrails do what the README says for staging and production
// jobs, and the workflow requests the OIDC token the config expects.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError, loadConfigFile, Verdicts, type Session, type Statement, type StatementContext } from '@querygate/core';
import { PostgresAnalyzer } from '@querygate/protocol-postgres';
import { main } from '../../../packages/gateway/src/cli';
import { guardrailsInterceptor, parseGuardrailsOptions } from '../../../packages/gateway/src/guardrails';

const DIR = join(__dirname, '..');
const CONFIG = join(DIR, 'querygate.yaml');
const WORKFLOW = join(DIR, '.github', 'workflows', 'migrate.yml');
const SECRETS = { PG_UPSTREAM_PASSWORD: 'pg-secret', MYSQL_UPSTREAM_PASSWORD: 'mysql-secret', DBA_APPROVER_PASSWORD: 'dba-secret' };

describe('examples/github-actions', () => {
  const saved: Record<string, string | undefined> = {};
  beforeAll(() => {
    for (const [k, v] of Object.entries(SECRETS)) { saved[k] = process.env[k]; process.env[k] = v; }
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  });

  /**
   * The example with its machine paths moved to a temp dir: loading the approval plugin (as
   * check-config does) creates its store under gateway.dataDir.
   */
  let copy: string;
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'qg-gha-example-'));
    copy = join(work, 'querygate.yaml');
    writeFileSync(copy, readFileSync(CONFIG, 'utf8')
      .replace('dataDir: /var/lib/querygate', `dataDir: ${work}/data`)
      .replace('/var/log/querygate/audit.jsonl', `${work}/audit.jsonl`));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('querygate check-config accepts the gateway config', async () => {
    expect(readFileSync(copy, 'utf8').split('\n').length).toBe(readFileSync(CONFIG, 'utf8').split('\n').length);
    const out: string[] = [];
    const err: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => { out.push(String(chunk)); return true; });
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => { err.push(String(chunk)); return true; });
    let code: number;
    try {
      code = await main(['check-config', '--config', copy]);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(err.join('')).toBe('');
    expect({ code, out: out.join('') }).toEqual({ code: 0, out: `${copy}: ok (2 listeners, 2 plugins)\n` });
  });

  it('check-config names the missing secret when the environment lacks one', async () => {
    delete process.env.MYSQL_UPSTREAM_PASSWORD;
    const err: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => { err.push(String(chunk)); return true; });
    try {
      expect(await main(['check-config', '--config', copy])).toBe(1);
    } finally {
      stderr.mockRestore();
      process.env.MYSQL_UPSTREAM_PASSWORD = SECRETS.MYSQL_UPSTREAM_PASSWORD;
    }
    expect(err.join('')).toMatch(/listeners\[1\]\.upstream\.password: environment variable MYSQL_UPSTREAM_PASSWORD is not set/);
  });

  it('trusts GitHub tokens of the acme organisation only, and admits acme/api to the app database', () => {
    const { config } = loadConfigFile(CONFIG);
    expect(config.identities.oidc).toEqual([expect.objectContaining({
      issuer: 'https://token.actions.githubusercontent.com',
      audience: 'querygate',
      jwks: expect.objectContaining({ url: 'https://token.actions.githubusercontent.com/.well-known/jwks' }),
      groupsFrom: ['repository', 'environment'],
      require: { repository_owner: 'acme' },
    })]);
    expect(config.access).toEqual([{ groups: ['repository:acme/api'], listeners: ['pg', 'mysql'], databases: ['app'] }]);
    expect(config.listeners.every((l) => l.tls?.require === true && !l.allowPlaintextPasswords)).toBe(true);
  });

  it('lets staging jobs migrate, holds production migrations for approval, blocks the never-allowed', async () => {
    const { config } = loadConfigFile(CONFIG);
    const options = parseGuardrailsOptions(config.plugins.find((p) => p.use === 'guardrails')!.options);
    const requested: string[] = [];
    const guardrails = guardrailsInterceptor(options, () => ({
      request: (_s, _c, reason) => { requested.push(reason.rule); return Verdicts.deny(new GatewayError('QG_APPROVAL_PENDING', undefined, { rule: reason.rule })); },
    }));
    const analyzer = await PostgresAnalyzer.load();
    const migration = readFileSync(join(DIR, 'migrations', 'postgres', '001_create_orders.sql'), 'utf8');
    const decide = (sql: string, environment: string): string[] => analyzer.analyze(sql).map((statement: Statement) => {
      const verdict = guardrails.onStatement!(statement, contextFor(environment)) as { action: string; error?: { rule?: string } };
      return verdict.action === 'deny' && verdict.error ? `deny:${verdict.error.rule}` : verdict.action;
    });
    expect(decide(migration, 'staging')).toEqual(['allow', 'allow']);
    expect(decide(migration, 'production')).toEqual(['deny:production-migrations-need-approval', 'deny:production-migrations-need-approval']);
    expect(requested).toEqual(['production-migrations-need-approval', 'production-migrations-need-approval']);
    expect(decide('DROP DATABASE app', 'staging')).toEqual(['deny:no-drop-database']);
    expect(decide('TRUNCATE orders', 'staging')).toEqual(['deny:no-truncate']);
    expect(decide('SELECT count(*) FROM orders', 'production')).toEqual(['allow']);
  });

  it('the workflow requests an OIDC token for the audience querygate and uses it both ways', () => {
    const workflow = readFileSync(WORKFLOW, 'utf8');
    expect(workflow).toMatch(/permissions:\n\s+id-token: write/);
    expect(workflow).toContain('$ACTIONS_ID_TOKEN_REQUEST_URL&audience=querygate');
    expect(workflow).toContain('Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN');
    expect(workflow).toMatch(/PGPASSWORD="\$QG_TOKEN" psql/);
    expect(workflow).toContain('PGSSLMODE: verify-full');
    expect(workflow).toContain('/api/token-exchange');
    expect(workflow).toContain('environment: ${{ matrix.environment }}');
  });
});

function contextFor(environment: string): StatementContext {
  const session: Session = {
    id: 's', protocol: 'postgres', listener: 'pg', database: 'app', clientAddress: '203.0.113.7', startedAt: new Date(),
    clientParameters: {}, tls: true, state: new Map(),
    identity: { subject: `repo:acme/api:environment:${environment}`, groups: ['repository:acme/api', `environment:${environment}`], method: 'oidc', claims: {} },
  };
  return { session, via: 'simple', signal: new AbortController().signal };
}
