import { GatewayError } from '../GatewayError';
import type { ErrorContext, Interceptor, ServerError, ServerErrorText, StatementContext } from '../Interceptor';
import type { Logger } from '../Logger';
import type { ResultSet, RowTransform, ValueMask } from '../ResultSet';
import type { Session } from '../Session';
import type { Statement } from '../Statement';
import type { Allow, Deny, Hold, Verdict } from '../Verdict';
import { Verdicts } from '../Verdict';

export interface PipelineOptions {
  /** Upper bound for one hook's answer, in milliseconds. A hold's decision is not bounded by it. */
  readonly hookTimeoutMs: number;
}

/** Told to the caller when a hook holds a statement, before waiting on the decision. */
export type HoldListener = (hold: Hold, interceptor: string) => void;

type Decided = Allow | Deny;

function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/**
 * Runs interceptor hooks: request hooks in configured order (stop at the first deny), result hooks
 * in reverse order. Stays synchronous while every hook answers synchronously, so a pass-through
 * statement allocates no promise; the first hook that returns a promise switches to the async path,
 * where each hook is bounded by the timeout.
 */
export class Pipeline {
  private readonly sessionHooks: readonly Interceptor[];
  private readonly statementHooks: readonly Interceptor[];
  private readonly resultHooks: readonly Interceptor[];
  private readonly completeHooks: readonly Interceptor[];
  private readonly endHooks: readonly Interceptor[];
  private readonly errorHooks: readonly Interceptor[];

  constructor(
    readonly interceptors: readonly Interceptor[],
    private readonly options: PipelineOptions,
    private readonly logger: Logger,
  ) {
    this.sessionHooks = interceptors.filter((i) => i.onSessionStart);
    this.statementHooks = interceptors.filter((i) => i.onStatement);
    this.resultHooks = interceptors.filter((i) => i.onResult).reverse();
    this.completeHooks = interceptors.filter((i) => i.onStatementComplete);
    this.endHooks = interceptors.filter((i) => i.onSessionEnd);
    this.errorHooks = interceptors.filter((i) => i.onError).reverse();
  }

  get hasResultHooks(): boolean { return this.resultHooks.length > 0; }
  get hasCompleteHooks(): boolean { return this.completeHooks.length > 0; }
  get hasErrorHooks(): boolean { return this.errorHooks.length > 0; }

  async startSession(session: Session): Promise<Decided> {
    for (const hook of this.sessionHooks) {
      const answer = await this.bounded(hook, 'onSessionStart', () => hook.onSessionStart!(session));
      if (answer && answer.action === 'deny') return answer;
    }
    return Verdicts.allow();
  }

  /** Judges one statement. Synchronous unless a hook answers asynchronously or holds. */
  judge(statement: Statement, context: StatementContext, onHold?: HoldListener): Decided | Promise<Decided> {
    const hooks = this.statementHooks;
    for (let i = 0; i < hooks.length; i++) {
      const hook = hooks[i]!;
      let answer: Verdict | void | Promise<Verdict | void>;
      try {
        answer = hook.onStatement!(statement, context);
      } catch (err) {
        return this.hookFailed(hook, 'onStatement', err);
      }
      if (isThenable<Verdict | void>(answer)) {
        return this.judgeAsync(statement, context, i, answer, onHold);
      }
      if (!answer || answer.action === 'allow') continue;
      if (answer.action === 'deny') return answer;
      return this.judgeAsync(statement, context, i, answer, onHold);
    }
    return Verdicts.allow();
  }

  private async judgeAsync(
    statement: Statement,
    context: StatementContext,
    from: number,
    first: Verdict | void | Promise<Verdict | void>,
    onHold: HoldListener | undefined,
  ): Promise<Decided> {
    const hooks = this.statementHooks;
    for (let i = from; i < hooks.length; i++) {
      const hook = hooks[i]!;
      let answer: Verdict | void;
      if (i === from) {
        answer = isThenable<Verdict | void>(first)
          ? await this.bounded(hook, 'onStatement', () => first)
          : (first as Verdict | void);
      } else {
        answer = await this.bounded(hook, 'onStatement', () => hook.onStatement!(statement, context));
      }
      if (!answer || answer.action === 'allow') continue;
      if (answer.action === 'deny') return answer;
      onHold?.(answer, hook.name);
      const decided = await this.awaitHold(answer, context.signal);
      if (decided.action === 'deny') return decided;
    }
    return Verdicts.allow();
  }

  private awaitHold(hold: Hold, signal: AbortSignal): Promise<Decided> {
    if (signal.aborted) {
      hold.cancel?.('session ended');
      return Promise.resolve(Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', 'statement cancelled while waiting for a decision', { rule: hold.rule })));
    }
    return new Promise<Decided>((resolve) => {
      const onAbort = (): void => {
        hold.cancel?.('cancelled by the client');
        resolve(Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', 'statement cancelled while waiting for a decision', { rule: hold.rule })));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      hold.decision.then(
        (decision) => { signal.removeEventListener('abort', onAbort); resolve(decision); },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          this.logger.error('hold decision failed', { error: String(err) });
          resolve(Verdicts.deny(new GatewayError('QG_HOOK_FAILED', undefined, { cause: err, rule: hold.rule })));
        },
      );
    });
  }

  /**
   * Asks result hooks (reverse order) for a plan and composes them: a column rewritten by several
   * hooks gets each mask in turn. Undefined when no hook wants to touch the result.
   */
  planResult(result: ResultSet, context: StatementContext): RowTransform | undefined | Promise<RowTransform | undefined> {
    const hooks = this.resultHooks;
    if (hooks.length === 0) return undefined;
    const plans: RowTransform[] = [];
    for (let i = 0; i < hooks.length; i++) {
      const hook = hooks[i]!;
      let plan: RowTransform | undefined | void | Promise<RowTransform | undefined | void>;
      try {
        plan = hook.onResult!(result, context);
      } catch (err) {
        throw this.hookFailed(hook, 'onResult', err).error;
      }
      if (isThenable<RowTransform | undefined | void>(plan)) {
        return this.planResultAsync(result, context, i, plan, plans);
      }
      if (plan) plans.push(plan);
    }
    return composePlans(plans);
  }

  private async planResultAsync(
    result: ResultSet,
    context: StatementContext,
    from: number,
    first: Promise<RowTransform | undefined | void>,
    plans: RowTransform[],
  ): Promise<RowTransform | undefined> {
    const hooks = this.resultHooks;
    for (let i = from; i < hooks.length; i++) {
      const hook = hooks[i]!;
      const answer = await this.bounded(hook, 'onResult', () => (i === from ? first : hook.onResult!(result, context)), true);
      if (answer && 'columns' in answer) plans.push(answer);
      else if (answer && 'action' in answer) throw answer.error;
    }
    return composePlans(plans);
  }

  /**
   * Runs the error hooks (result order: reverse), each on the previous one's text, synchronously.
   * Returns `error` itself when no hook changed it, so an adapter re-encodes only what changed. A
   * hook that throws or answers with a promise withholds the whole text (fail closed).
   */
  redactError(error: ServerError, context: ErrorContext): ServerError {
    let current = error;
    for (const hook of this.errorHooks) {
      let answer: ServerErrorText | undefined | PromiseLike<unknown>;
      try {
        answer = hook.onError!(current, context);
      } catch (err) {
        this.logger.error(`${hook.name}.onError threw; withholding the error text (fail closed)`, { interceptor: hook.name, error: describe(err) });
        return withheld(error, hook.name);
      }
      if (answer === undefined || answer === null) continue;
      if (isThenable(answer) || typeof (answer as ServerErrorText).message !== 'string') {
        this.logger.error(`${hook.name}.onError did not answer synchronously with a text; withholding the error text`, { interceptor: hook.name });
        return withheld(error, hook.name);
      }
      const text = answer as ServerErrorText;
      if (text.message === current.message && text.detail === current.detail && text.hint === current.hint && text.where === current.where) continue;
      current = { code: error.code, message: text.message, detail: text.detail, hint: text.hint, where: text.where };
    }
    return current;
  }

  /** After-the-fact hooks: errors are logged, never turned into refusals. */
  complete(run: (hook: Interceptor) => unknown, kind: 'onStatementComplete' | 'onSessionEnd'): Promise<void> {
    const hooks = kind === 'onStatementComplete' ? this.completeHooks : this.endHooks;
    const tasks = hooks.map(async (hook) => {
      try {
        await withTimeout(Promise.resolve(run(hook)), this.options.hookTimeoutMs);
      } catch (err) {
        this.logger.warn(`${hook.name}.${kind} failed`, { interceptor: hook.name, error: describe(err) });
      }
    });
    return Promise.all(tasks).then(() => undefined);
  }

  /**
   * Runs one hook call bounded by the timeout. Any throw, rejection or timeout becomes a deny.
   * With `rethrow`, the deny's error is thrown instead (result hooks have no verdict to return).
   */
  private async bounded<T>(hook: Interceptor, phase: string, call: () => T | Promise<T>, rethrow = false): Promise<T | Deny> {
    try {
      return await withTimeout(Promise.resolve().then(call), this.options.hookTimeoutMs);
    } catch (err) {
      const deny = err instanceof HookTimeout
        ? this.hookTimedOut(hook, phase)
        : this.hookFailed(hook, phase, err);
      if (rethrow) throw deny.error;
      return deny;
    }
  }

  private hookFailed(hook: Interceptor, phase: string, err: unknown): Deny {
    if (err instanceof GatewayError) return Verdicts.deny(err);
    this.logger.error(`${hook.name}.${phase} threw; refusing (fail closed)`, { interceptor: hook.name, error: describe(err) });
    return Verdicts.deny(new GatewayError('QG_HOOK_FAILED', `${hook.name} failed, so the statement was refused`, { cause: err, rule: hook.name }));
  }

  private hookTimedOut(hook: Interceptor, phase: string): Deny {
    this.logger.error(`${hook.name}.${phase} timed out after ${this.options.hookTimeoutMs} ms; refusing`, { interceptor: hook.name });
    return Verdicts.deny(new GatewayError('QG_HOOK_TIMEOUT', `${hook.name} did not answer within ${this.options.hookTimeoutMs} ms`, { rule: hook.name }));
  }
}

class HookTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HookTimeout()), ms);
    timer.unref?.();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The error with every text field withheld: only the code stays. */
function withheld(error: ServerError, interceptor: string): ServerError {
  return { code: error.code, message: `the database's error text was withheld by the gateway (${interceptor} could not check it)` };
}

function composePlans(plans: readonly RowTransform[]): RowTransform | undefined {
  if (plans.length === 0) return undefined;
  if (plans.length === 1) return plans[0];
  const columns = new Map<number, ValueMask>();
  for (const plan of plans) {
    for (const [index, mask] of plan.columns) {
      const before = columns.get(index);
      columns.set(index, before ? (value) => {
        const first = before(value);
        return first === null ? null : mask(first);
      } : mask);
    }
  }
  return { columns, label: plans.map((p) => p.label).filter(Boolean).join('+') || undefined };
}

export function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return String(err);
}
