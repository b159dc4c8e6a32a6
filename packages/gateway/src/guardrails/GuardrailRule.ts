import { glob, RISK_FLAGS, STATEMENT_KINDS, PluginOptionsError, type RiskFlag, type Session, type Statement, type StatementContext, type StatementKind } from '@querygate/core';

export type GuardrailAction = 'block' | 'approve' | 'allow';
const ACTIONS: readonly GuardrailAction[] = ['block', 'approve', 'allow'];

/** `unknown` stands for statements the analyser could not parse. */
export type GuardrailRisk = RiskFlag | 'unknown';

export interface GuardrailMatch {
  readonly kind?: readonly StatementKind[];
  /** Statement commands (`drop_database`, `truncate`, `alter_system`...). */
  readonly statement?: readonly string[];
  /** schema.table globs; an unqualified reference matches on its table part. */
  readonly objects?: readonly string[];
  readonly functions?: readonly string[];
  /** Any of these risk flags. */
  readonly risks?: readonly GuardrailRisk[];
  /** Applies only to identities in any of these groups. */
  readonly groups?: readonly string[];
  /** Applies only to identities in none of these groups. */
  readonly exceptGroups?: readonly string[];
  readonly listeners?: readonly string[];
  readonly databases?: readonly string[];
  /** Last resort: a case-insensitive regular expression over the statement text. */
  readonly regex?: RegExp;
}

export interface GuardrailRule {
  readonly name: string;
  readonly match: GuardrailMatch;
  readonly action: GuardrailAction;
  readonly message?: string;
}

export interface GuardrailsOptions {
  readonly rules: readonly GuardrailRule[];
  /** What happens to a statement no rule matches. */
  readonly default: GuardrailAction;
}

/** Validates the plugin's options; every error names its path under `options`. */
export function parseGuardrailsOptions(raw: unknown): GuardrailsOptions {
  const options = asObject(raw ?? {}, []);
  allowKeys(options, ['rules', 'default'], []);
  const dflt = options.default === undefined ? 'allow' : oneOf(options.default, ACTIONS, ['default']);
  const rawRules = options.rules === undefined ? [] : options.rules;
  if (!Array.isArray(rawRules)) throw new PluginOptionsError(['rules'], 'must be a list of rules');
  const names = new Set<string>();
  const rules = rawRules.map((r: unknown, i): GuardrailRule => {
    const path = ['rules', i];
    const rule = asObject(r, path);
    allowKeys(rule, ['name', 'match', 'action', 'message'], path);
    if (typeof rule.name !== 'string' || rule.name === '') throw new PluginOptionsError([...path, 'name'], 'every rule needs a name (it is shown to the client and in audit)');
    if (names.has(rule.name)) throw new PluginOptionsError([...path, 'name'], `duplicate rule name "${rule.name}"`);
    names.add(rule.name);
    const action = oneOf(rule.action, ACTIONS, [...path, 'action']);
    const m = asObject(rule.match ?? {}, [...path, 'match']);
    allowKeys(m, ['kind', 'statement', 'objects', 'functions', 'risks', 'groups', 'exceptGroups', 'listeners', 'databases', 'regex'], [...path, 'match']);
    const mp = [...path, 'match'];
    const match: GuardrailMatch = {
      kind: m.kind === undefined ? undefined : list(m.kind, [...mp, 'kind']).map((k, j) => oneOf(k, STATEMENT_KINDS, [...mp, 'kind', j])),
      statement: optList(m.statement, [...mp, 'statement'])?.map((s) => s.toLowerCase()),
      objects: optList(m.objects, [...mp, 'objects'])?.map((s) => s.toLowerCase()),
      functions: optList(m.functions, [...mp, 'functions'])?.map((s) => s.toLowerCase()),
      risks: m.risks === undefined ? undefined : list(m.risks, [...mp, 'risks']).map((k, j) => oneOf(k, [...RISK_FLAGS, 'unknown'] as const, [...mp, 'risks', j])),
      groups: optList(m.groups, [...mp, 'groups']),
      exceptGroups: optList(m.exceptGroups, [...mp, 'exceptGroups']),
      listeners: optList(m.listeners, [...mp, 'listeners']),
      databases: optList(m.databases, [...mp, 'databases']),
      regex: m.regex === undefined ? undefined : regex(m.regex, [...mp, 'regex']),
    };
    if (rule.message !== undefined && typeof rule.message !== 'string') throw new PluginOptionsError([...path, 'message'], 'must be text');
    return { name: rule.name, match, action, message: rule.message as string | undefined };
  });
  return { rules, default: dflt };
}

/** True when every condition the rule states holds for this statement (conditions AND, list items OR). */
export function matches(match: GuardrailMatch, statement: Statement, context: StatementContext): boolean {
  const session: Session = context.session;
  if (match.kind && !match.kind.includes(statement.kind)) return false;
  if (match.statement && !match.statement.includes(statement.command)) return false;
  if (match.risks && !match.risks.some((r) => (r === 'unknown' ? statement.kind === 'unknown' || statement.risks.has('unparsed') : statement.risks.has(r)))) return false;
  if (match.objects) {
    const objects = [...statement.reads, ...statement.writes];
    const hit = objects.some((o) => match.objects!.some((pattern) => objectMatches(pattern, o.schema, o.name)));
    if (!hit) return false;
  }
  if (match.functions) {
    const hit = statement.functions.some((f) => match.functions!.some((pattern) => glob(pattern, f) || glob(pattern, f.split('.').pop()!)));
    if (!hit) return false;
  }
  const groups = session.identity.groups;
  if (match.groups && !match.groups.some((g) => groups.includes(g))) return false;
  if (match.exceptGroups && match.exceptGroups.some((g) => groups.includes(g))) return false;
  if (match.listeners && !match.listeners.some((l) => glob(l, session.listener))) return false;
  if (match.databases && !match.databases.some((d) => glob(d, session.database))) return false;
  if (match.regex && !match.regex.test(statement.text)) return false;
  return true;
}

function objectMatches(pattern: string, schema: string | undefined, name: string): boolean {
  const table = name.toLowerCase();
  const dot = pattern.lastIndexOf('.');
  if (dot < 0) return glob(pattern, table);
  if (schema) return glob(pattern, `${schema.toLowerCase()}.${table}`);
  // Unqualified in the statement: the schema depends on search_path, so judge by the table alone.
  return glob(pattern.slice(dot + 1), table);
}

type Path = readonly (string | number)[];

function asObject(value: unknown, path: Path): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new PluginOptionsError(path, 'must be a mapping');
  return value as Record<string, unknown>;
}
function allowKeys(value: Record<string, unknown>, keys: readonly string[], path: Path): void {
  for (const key of Object.keys(value)) {
    if (!keys.includes(key)) throw new PluginOptionsError([...path, key], `unknown key (expected one of: ${keys.join(', ')})`);
  }
}
function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: Path): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) throw new PluginOptionsError(path, `must be one of: ${allowed.join(', ')}`);
  return value as T;
}
function list(value: unknown, path: Path): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item, i) => {
    if (typeof item !== 'string') throw new PluginOptionsError(Array.isArray(value) ? [...path, i] : path, 'must be text');
    return item;
  });
}
function optList(value: unknown, path: Path): string[] | undefined {
  return value === undefined ? undefined : list(value, path);
}
function regex(value: unknown, path: Path): RegExp {
  if (typeof value !== 'string') throw new PluginOptionsError(path, 'must be a regular expression as text');
  try {
    return new RegExp(value, 'i');
  } catch (err) {
    throw new PluginOptionsError(path, `not a valid regular expression: ${(err as Error).message}`);
  }
}
