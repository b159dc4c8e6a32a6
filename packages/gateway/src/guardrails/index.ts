import { Approvals, definePlugin, GatewayError, Verdicts, type ApprovalService, type Interceptor, type Statement, type StatementContext, type Verdict } from '@querygate/core';
import { matches, parseGuardrailsOptions, type GuardrailAction, type GuardrailsOptions } from './GuardrailRule';

export { parseGuardrailsOptions, matches } from './GuardrailRule';
export type { GuardrailRule, GuardrailMatch, GuardrailAction, GuardrailsOptions, GuardrailRisk } from './GuardrailRule';

const DEFAULT_RULE = '(default)';

/**
 * Ordered rules, first match wins: block, hand to the approval service, or allow. A statement no
 * rule matches gets the configured default.
 */
export function guardrailsInterceptor(options: GuardrailsOptions, approvals: () => ApprovalService | undefined): Interceptor {
  const decide = (statement: Statement, context: StatementContext): { rule: string; action: GuardrailAction; message?: string } => {
    for (const rule of options.rules) {
      if (matches(rule.match, statement, context)) return { rule: rule.name, action: rule.action, message: rule.message };
    }
    return { rule: DEFAULT_RULE, action: options.default };
  };
  return {
    name: 'guardrails',
    onStatement(statement, context): Verdict | Promise<Verdict> {
      const { rule, action, message } = decide(statement, context);
      if (action === 'allow') return Verdicts.allow();
      const reason = message ?? describeStatement(statement);
      if (action === 'block') {
        return Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', `querygate: statement refused by rule "${rule}": ${reason}`, { rule }));
      }
      const service = approvals();
      if (!service) {
        return Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', `querygate: rule "${rule}" requires approval, but no approval plugin is configured, so the statement is refused: ${reason}`, { rule }));
      }
      return service.request(statement, context, { rule, message: reason });
    },
  };
}

function describeStatement(statement: Statement): string {
  if (statement.kind === 'unknown') return 'the statement could not be analysed, and unknown statements are not allowed';
  const flags = [...statement.risks];
  const command = statement.command.replace(/_/g, ' ').toUpperCase();
  return flags.length > 0 ? `${command} (${flags.join(', ')}) is not allowed` : `${command} is not allowed`;
}

export default definePlugin({
  name: 'guardrails',
  register(context) {
    const options = parseGuardrailsOptions(context.options);
    context.addInterceptor(guardrailsInterceptor(options, () => context.use(Approvals)));
  },
});
