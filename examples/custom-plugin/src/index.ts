// An outside author's plugin: it imports nothing but @querygate/core's public API.
import { definePlugin, GatewayError, PluginOptionsError, Verdicts, type Interceptor, type Statement } from '@querygate/core';

export interface BoundedSelectOptions {
  /** Identity groups allowed to run unbounded `SELECT *` (e.g. dba). */
  readonly exemptGroups: readonly string[];
}

const LIMITED = /\blimit\b|\bfetch\s+(first|next)\b|\btop\s*\(/i;

/** True for a SELECT that returns every column of a table with no row limit. */
export function isUnboundedSelectStar(statement: Statement): boolean {
  if (statement.kind !== 'select') return false;
  const star = statement.lineage.outputs.some((output) => output.expands === true) || /\bselect\s+(\w+\.)?\*/i.test(statement.normalized);
  return star && !LIMITED.test(statement.normalized);
}

export function boundedSelect(options: BoundedSelectOptions): Interceptor {
  return {
    name: 'bounded-select',
    onStatement(statement, context) {
      if (!isUnboundedSelectStar(statement)) return Verdicts.allow();
      if (context.session.identity.groups.some((g) => options.exemptGroups.includes(g))) return Verdicts.allow();
      return Verdicts.deny(new GatewayError('QG_STATEMENT_DENIED', 'querygate: SELECT * needs a LIMIT (rule "bounded-select")', {
        rule: 'bounded-select',
        hint: 'Name the columns you need, or add LIMIT n.',
      }));
    },
  };
}

function parseOptions(raw: unknown): BoundedSelectOptions {
  const options = (raw ?? {}) as Record<string, unknown>;
  if (typeof options !== 'object' || Array.isArray(options)) throw new PluginOptionsError([], 'must be a mapping');
  for (const key of Object.keys(options)) {
    if (key !== 'exemptGroups') throw new PluginOptionsError([key], 'unknown key (expected: exemptGroups)');
  }
  const groups = options.exemptGroups ?? [];
  if (!Array.isArray(groups) || groups.some((g) => typeof g !== 'string')) {
    throw new PluginOptionsError(['exemptGroups'], 'must be a list of group names');
  }
  return { exemptGroups: groups as string[] };
}

export default definePlugin({
  name: 'bounded-select',
  register(context) {
    context.addInterceptor(boundedSelect(parseOptions(context.options)));
  },
});
