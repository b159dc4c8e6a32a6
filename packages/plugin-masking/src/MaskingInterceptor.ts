import {
  GatewayError, Verdicts,
  type ErrorContext, type Interceptor, type ResultColumn, type ResultSet, type ServerError, type ServerErrorText,
  type Session, type Statement, type StatementContext, type Verdict,
} from '@querygate/core';
import { BoundedCache } from './BoundedCache';
import type { ActiveRules, MaskingPlan, MaskingPolicy, StatementAssessment } from './MaskingPolicy';
import { isUserText, redactServerError } from './redactServerError';
import type { ViewResolver } from './ViewResolver';

type PlanEntry = MaskingPlan | GatewayError | null;

// MySQL keeps the last statement's warnings (their text quotes values, as errors do) for SHOW
// WARNINGS / SHOW ERRORS and GET DIAGNOSTICS.
// On the normalised text (comments out): `/* c */ SHOW /* c */ WARNINGS` is the same command.
const WARNINGS_LISTING = /^\s*SHOW\s+(?:WARNINGS|ERRORS)\b/i;
const GET_DIAGNOSTICS = /^\s*GET\s+(?:CURRENT\s+|STACKED\s+)?DIAGNOSTICS\b/i;

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
    private readonly resolver: (session: Session) => ViewResolver | undefined = () => undefined,
    readonly name = 'masking',
  ) {
    this.assessments = new BoundedCache(policy.options.cacheSize);
    this.plans = new BoundedCache(policy.options.cacheSize);
  }

  onStatement(statement: Statement, context: StatementContext): Verdict | undefined {
    const session = context.session;
    const rules = this.policy.rulesFor(session);
    if (rules.exempt) return undefined;
    const assessment = this.assessment(statement, rules, this.resolver(session), context);
    if (assessment.defersSensitiveRows) this.policy.noteDeferred(session);
    if (assessment.sensitiveReads.length > 0 || assessment.readsUnknown) this.policy.noteReadSensitive(session);
    if (assessment.refusal) return Verdicts.deny(assessment.refusal);
    if (GET_DIAGNOSTICS.test(statement.normalized) && this.policy.hasReadSensitive(session)) {
      return Verdicts.deny(new GatewayError('QG_MASKING_UNRESOLVED', 'GET DIAGNOSTICS would store warning texts that may quote sensitive values in a variable', {
        rule: 'masking', hint: 'Use SHOW WARNINGS (masked), or a session that is exempt from masking.',
      }));
    }
    return undefined;
  }

  onResult(result: ResultSet, context: StatementContext): MaskingPlan | undefined {
    const session = context.session;
    const rules = this.policy.rulesFor(session);
    if (rules.exempt) return undefined;
    if (WARNINGS_LISTING.test(result.statement.normalized) && this.policy.hasReadSensitive(session)) return this.warningsPlan(result);
    const resolver = this.resolver(session);
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

  /** SHOW WARNINGS after a sensitive read: the Message column redacted like an error's text. */
  private warningsPlan(result: ResultSet): MaskingPlan | undefined {
    const index = result.columns.findIndex((c) => c.name.toLowerCase() === 'message');
    if (index < 0) return undefined;
    const redaction = this.policy.options.redaction;
    const mask = (value: string): string => redactServerError({ code: '', message: value }, undefined, redaction).message;
    return {
      columns: new Map([[index, mask]]), label: 'masking', covers: [result.columns[index]!.name],
      decisions: [{ index, name: result.columns[index]!.name, rule: 'masking', reason: 'server-text', strategy: 'redact' }],
    };
  }

  /**
   * Takes values out of a server error's text when it may quote one: the statement reads sensitive
   * data (or an unknown relation), or its rows come from a cursor / prepared statement over it. For
   * an error the adapter cannot tie to a statement, or one at COMMIT (a deferred constraint), any
   * earlier sensitive read of the session counts.
   */
  onError(error: ServerError, context: ErrorContext): ServerErrorText | undefined {
    const session = context.session;
    const rules = this.policy.rulesFor(session);
    if (rules.exempt) return undefined;
    const statement = context.statement;
    let sensitive = this.policy.hasDeferred(session);
    if (!sensitive && statement) {
      const assessment = this.assessment(statement, rules, this.resolver(session), context);
      sensitive = assessment.sensitiveReads.length > 0 || assessment.readsUnknown;
    }
    if (!sensitive && (statement === undefined || statement.kind === 'tcl')) sensitive = this.policy.hasReadSensitive(session);
    // A statement that writes or alters a sensitive table makes the server read its rows (casts in
    // ALTER TABLE, CREATE INDEX expressions, constraint checks); a trigger, default or domain check
    // may run code that reads anything: user-written text (RAISE, SIGNAL) is never trusted.
    if (!sensitive && statement) sensitive = this.policy.writesSensitive(statement, rules);
    if (!sensitive) sensitive = isUserText(error) && rules.columnRules.length > 0;
    if (!sensitive) return undefined;
    return redactServerError(error, statement, this.policy.options.redaction, session.database);
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
    // The format matters: a binary value of some types cannot be masked, and is refused.
    out += `${c.name}\u0001${c.type}\u0001${c.format === 'binary' ? 'b' : ''}\u0001${o ? `${o.schema ?? ''}.${o.table}.${o.column}` : ''}\u0002`;
  }
  return out;
}
