// The corpus policy: the guardrails rules of the demo config (read from the demo file itself, so the
// corpus keeps proving what the demo ships), with one rule placed before them (migrations).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '@querygate/core';

export const DEMO_CONFIG = join(__dirname, '..', '..', 'demo', 'querygate.demo.yaml');

interface RawRule { readonly name: string; readonly match?: Record<string, unknown>; readonly action: string; readonly message?: string }
interface RawGuardrails { readonly default?: string; readonly rules: readonly RawRule[] }

/** The demo's guardrails options, as written in the demo config. */
export function demoGuardrails(): RawGuardrails {
  // `{{port}}` placeholders are filled in by `querygate demo`; any number will do for reading rules.
  const text = readFileSync(DEMO_CONFIG, 'utf8').replace(/\{\{\w+\}\}/g, '1');
  const { config } = parseConfig(text, DEMO_CONFIG, { env: { QG_DEMO_UPSTREAM_PASSWORD: 'x', QG_DEMO_PASSWORD: 'x', QG_DEMO_MASKING_KEY: 'x'.repeat(32) } });
  const plugin = config.plugins.find((p) => p.use === 'guardrails');
  if (!plugin) throw new Error(`${DEMO_CONFIG} configures no guardrails plugin`);
  return plugin.options as RawGuardrails;
}

/** Migrations: an identity in the `migrator` group may run DDL (placed first: first match wins). */
export const MIGRATOR_RULE: RawRule = { name: 'migrator-may-migrate', match: { groups: ['migrator'], kind: ['ddl'] }, action: 'allow' };

/**
 * What the gateway cannot read, it cannot judge: a DO block that EXECUTEs a computed string, PREPARE
 * FROM a variable, a FunctionCall message. The demo blocks them with this rule (see
 * docs/guardrails.md, "Dynamic SQL"); the corpus proves it is needed.
 */
export const DYNAMIC_SQL_RULE_NAME = 'no-dynamic-sql';

export function corpusGuardrails(): RawGuardrails {
  const demo = demoGuardrails();
  return { default: demo.default ?? 'allow', rules: [MIGRATOR_RULE, ...demo.rules] };
}

/** The `plugins:` entry of a config document (JSON is YAML). */
export function guardrailsPluginYaml(options: RawGuardrails = corpusGuardrails()): string {
  return `plugins: ${JSON.stringify([{ use: 'guardrails', options }])}\n`;
}
