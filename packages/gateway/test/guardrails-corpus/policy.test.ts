// The corpus judged without any network: each protocol's analyser plus the guardrails, the way the
// session judges a message (every statement, nested ones after their parent, first deny wins). Fast
// feedback for the end-to-end files, and the reason the corpus policy adds one rule to the demo's.
import type { Session, Statement, StatementContext } from '@querygate/core';
import { MysqlAnalyzer } from '@querygate/protocol-mysql';
import { PostgresAnalyzer } from '@querygate/protocol-postgres';
import { guardrailsInterceptor, parseGuardrailsOptions, type GuardrailsOptions } from '../../src/guardrails';
import { MYSQL_ATTEMPTS, POSTGRES_ATTEMPTS, R } from './attempts';
import { corpusGuardrails, demoGuardrails, DYNAMIC_SQL_RULE_NAME, MIGRATOR_RULE } from './policy';

const session: Session = {
  id: 's', protocol: 'postgres', listener: 'pg', database: 'app', clientAddress: '127.0.0.1', startedAt: new Date(),
  clientParameters: {}, tls: false, state: new Map(), identity: { subject: 'dev', groups: ['developers'], method: 'local', claims: {} },
};
const context: StatementContext = { session, via: 'simple', signal: new AbortController().signal };

function flatten(statements: readonly Statement[]): Statement[] {
  return statements.flatMap((s) => [s, ...flatten(s.nested ?? [])]);
}

/** The rule that refuses the message, or `allowed`. */
function judge(options: GuardrailsOptions, statements: readonly Statement[]): string {
  const guardrails = guardrailsInterceptor(options, () => undefined);
  for (const statement of flatten(statements)) {
    const verdict = guardrails.onStatement!(statement, context) as { action: string; error?: { rule?: string } };
    if (verdict.action === 'deny') return verdict.error?.rule ?? '?';
  }
  return 'allowed';
}

interface Judged { readonly id: string; readonly expected: string; readonly corpus: string; readonly demo: string }

describe('the corpus under the corpus policy, judged offline', () => {
  let judged: Judged[];

  beforeAll(async () => {
    const pg = await PostgresAnalyzer.load();
    const my = await MysqlAnalyzer.load();
    const corpus = parseGuardrailsOptions(corpusGuardrails());
    const raw = demoGuardrails();
    const demo = parseGuardrailsOptions({ ...raw, rules: raw.rules.filter((r) => r.name !== DYNAMIC_SQL_RULE_NAME) });
    const dir = '/tmp/querygate-corpus';
    judged = [
      // FunctionCall messages carry no SQL, and psql's \gexec sends a query's output: end-to-end only.
      ...POSTGRES_ATTEMPTS.filter((a) => a.functionCall === undefined && !a.sql.includes('\\gexec'))
        .map((a) => ({ a, statements: pg.analyze(a.sql.replace(/\{dir\}/g, dir)) })),
      // The adapter refuses some before policy runs.
      ...MYSQL_ATTEMPTS.filter((a) => a.refusedByAdapter === undefined)
        .map((a) => ({ a, statements: my.analyze(a.sql.replace(/\{dir\}/g, dir)) })),
    ].map(({ a, statements }) => ({ id: a.id, expected: a.rule, corpus: judge(corpus, statements), demo: judge(demo, statements) }));
  });

  it('refuses every attempt with the rule the corpus names', () => {
    const wrong = judged.filter((j) => j.corpus !== j.expected).map((j) => `${j.id}: expected ${j.expected}, got ${j.corpus}`);
    expect(wrong).toEqual([]);
    expect(judged.length).toBeGreaterThan(100);
  });

  it("wraps the demo's rules unchanged, with the migrator rule first", () => {
    const rules = corpusGuardrails().rules.map((r) => r.name);
    expect(rules).toEqual([MIGRATOR_RULE.name, ...demoGuardrails().rules.map((r) => r.name)]);
    expect(rules).toContain(DYNAMIC_SQL_RULE_NAME);
  });

  it("needs the demo's no-dynamic-sql rule: without it, computed dynamic SQL would run", () => {
    const slipThrough = judged.filter((j) => j.demo === 'allowed').map((j) => j.id);
    expect(slipThrough).toEqual(['pg-do-dynamic-truncate', 'my-sql-prepare-variable']);
    expect(judged.filter((j) => j.demo === 'allowed').every((j) => j.expected === R.dynamicSql)).toBe(true);
  });
});
