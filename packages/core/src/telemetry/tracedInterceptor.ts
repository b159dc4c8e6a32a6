import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Interceptor } from '../Interceptor';
import type { RowTransform } from '../ResultSet';
import type { Verdict } from '../Verdict';
import { SessionTrace } from './SessionTrace';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Ends the span when the hook's answer settles; a synchronous answer ends it at once. */
function settle<T>(span: Span, answer: T, describe: (value: Awaited<T>) => void): T {
  if (isThenable(answer)) {
    return (answer as PromiseLike<Awaited<T>>).then(
      (value) => { describe(value); span.end(); return value; },
      (err: unknown) => { span.setStatus({ code: SpanStatusCode.ERROR, message: String((err as Error)?.message ?? err) }); span.end(); throw err; },
    ) as T;
  }
  describe(answer as Awaited<T>);
  span.end();
  return answer;
}

/**
 * The same interceptor with a span around each onStatement / onResult call, as a child of the
 * statement's span. Only sessions that trace run the wrapped copies, so the untraced pipeline keeps
 * its synchronous fast path untouched. Methods are re-bound explicitly: hooks may live on a class
 * prototype, which spreading would lose, and absent hooks must stay absent (the pipeline filters on
 * presence).
 */
export function tracedInterceptor(interceptor: Interceptor): Interceptor {
  const w: Mutable<Interceptor> = { name: interceptor.name };
  if (interceptor.onSessionStart) w.onSessionStart = (session) => interceptor.onSessionStart!(session);
  if (interceptor.onStatement) {
    w.onStatement = (statement, context) => {
      const trace = SessionTrace.of(context.session);
      if (!trace) return interceptor.onStatement!(statement, context);
      const span = trace.child(statement, `querygate.hook ${interceptor.name}`, { 'querygate.hook.name': interceptor.name, 'querygate.hook.phase': 'onStatement' });
      let answer: ReturnType<NonNullable<Interceptor['onStatement']>>;
      try {
        answer = interceptor.onStatement!(statement, context);
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String((err as Error)?.message ?? err) });
        span.end();
        throw err;
      }
      return settle(span, answer, (verdict: Verdict | void) => {
        span.setAttribute('querygate.verdict', verdict ? verdict.action : 'allow');
        if (verdict && verdict.action === 'deny' && verdict.error.rule) span.setAttribute('querygate.rule', verdict.error.rule);
        if (verdict && verdict.action === 'hold' && verdict.rule) span.setAttribute('querygate.rule', verdict.rule);
      });
    };
  }
  if (interceptor.onResult) {
    w.onResult = (result, context) => {
      const trace = SessionTrace.of(context.session);
      if (!trace) return interceptor.onResult!(result, context);
      const span = trace.resultChild(result.statement, `querygate.hook ${interceptor.name}`, { 'querygate.hook.name': interceptor.name, 'querygate.hook.phase': 'onResult' });
      let answer: ReturnType<NonNullable<Interceptor['onResult']>>;
      try {
        answer = interceptor.onResult!(result, context);
      } catch (err) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String((err as Error)?.message ?? err) });
        span.end();
        throw err;
      }
      return settle(span, answer, (plan: RowTransform | undefined | void) => {
        span.setAttribute('querygate.masked_columns', plan ? plan.columns.size : 0);
      });
    };
  }
  // Not traced (synchronous and cheap), but it must stay: an absent onError would leave errors unredacted.
  if (interceptor.onError) w.onError = (error, context) => interceptor.onError!(error, context);
  if (interceptor.onStatementComplete) w.onStatementComplete = (outcome, context) => interceptor.onStatementComplete!(outcome, context);
  if (interceptor.onSessionEnd) w.onSessionEnd = (session, summary) => interceptor.onSessionEnd!(session, summary);
  if (interceptor.shutdown) w.shutdown = () => interceptor.shutdown!();
  return w;
}
