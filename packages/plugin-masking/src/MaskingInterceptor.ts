import {
  GatewayError, Verdicts,
  type Interceptor, type ResultColumn, type ResultSet, type Statement, type StatementContext, type Verdict,
} from '@querygate/core';
import { BoundedCache } from './BoundedCache';
import type { ActiveRules, MaskingPlan, MaskingPolicy, StatementAssessment } from './MaskingPolicy';
import type { ViewResolver } from './ViewResolver';

type PlanEntry = MaskingPlan | GatewayError | null;

/**
 * Masking's hooks: refuses statements it cannot mask (onStatement) and plans each result set
 * (onResult). Both answers are cached by (rule set, catalog version, statement fingerprint, result
 * column signature), so the common case — a result with nothing sensitive — is one string key and
 * one map lookup, and returns undefined so the adapter never decodes its rows.
 */
export class MaskingInterceptor implements Interceptor {
  private readonly assessments: BoundedCache<StatementAssessment>;
  private readonly plans: BoundedCache<PlanEntry>;

  constructor(
    readonly policy: MaskingPolicy,
    private readonly resolver: () => ViewResolver | undefined = () => undefined,
    readonly name = 'masking',
  ) {
    this.assessments = new BoundedCache(policy.options.cacheSize);
    this.plans = new BoundedCache(policy.options.cacheSize);
  }

  onStatement(statement: Statement, context: StatementContext): Verdict | undefined {
    const session = context.session;
    const rules = this.policy.rulesFor(session);
    if (rules.exempt) return undefined;
    const assessment = this.assessment(statement, rules, this.resolver(), context);
    if (assessment.defersSensitiveRows) this.policy.noteDeferred(session);
    return assessment.refusal ? Verdicts.deny(assessment.refusal) : undefined;
  }

  onResult(result: ResultSet, context: StatementContext): MaskingPlan | undefined {
    const session = context.session;
    const rules = this.policy.rulesFor(session);
    if (rules.exempt) return undefined;
    const resolver = this.resolver();
    const deferred = this.policy.hasDeferred(session) ? 'd' : '';
    const key = `${rules.key}\u0000${catalogKey(resolver, context)}\u0000${session.protocol}${deferred}\u0000${result.source}\u0000${result.statement.fingerprint}\u0000${signature(result.columns)}`;
    let entry = this.plans.get(key);
    if (entry === undefined) {
      try {
        const assessment = this.assessment(result.statement, rules, resolver, context);
        entry = this.policy.plan(result, rules, resolver, session, assessment) ?? null;
      } catch (err) {
        if (!(err instanceof GatewayError)) throw err;
        entry = err;
      }
      this.plans.set(key, entry);
    }
    if (entry instanceof GatewayError) throw entry;
    return entry ?? undefined;
  }

  private assessment(statement: Statement, rules: ActiveRules, resolver: ViewResolver | undefined, context: StatementContext): StatementAssessment {
    const key = `${rules.key}\u0000${catalogKey(resolver, context)}\u0000${statement.fingerprint}`;
    let assessment = this.assessments.get(key);
    if (!assessment) {
      assessment = this.policy.assess(statement, rules, resolver, context.session);
      this.assessments.set(key, assessment);
    }
    return assessment;
  }

  /** Forgets cached decisions (e.g. after the catalog or the options changed). */
  clear(): void {
    this.assessments.clear();
    this.plans.clear();
  }

  async shutdown(): Promise<void> {
    this.clear();
  }
}

/** A resolver answers per listener and database, and its answers change with its version. */
function catalogKey(resolver: ViewResolver | undefined, context: StatementContext): string {
  if (!resolver) return '';
  return `${context.session.listener}\u0001${context.session.database}\u0001${String(resolver.version ?? '')}`;
}

function signature(columns: readonly ResultColumn[]): string {
  let out = '';
  for (const c of columns) {
    const o = c.origin;
    out += `${c.name}\u0001${c.type}\u0001${o ? `${o.schema ?? ''}.${o.table}.${o.column}` : ''}\u0002`;
  }
  return out;
}
