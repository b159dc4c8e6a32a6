import { PluginOptionsError, type ColumnRef } from '@querygate/core';
import { builtinDetector, customDetector, isBuiltinDetector, BUILTIN_DETECTORS, type Detector } from './detectors';
import { ColumnPattern, Glob, NamePattern } from './patterns';
import { DEFAULT_REDACTION, MaskingKey, STRATEGY_KINDS, type Strategy, type StrategyKind } from './strategies';
import { StaticViewResolver } from './StaticViewResolver';

export type Fallback = 'refuse' | 'redact-all';
export type FallbackScope = 'sensitive-reads' | 'all';
export type UnknownRelations = 'fallback' | 'table';
export type SensitiveCopies = 'refuse' | 'allow';

/** Who sees clear values: sessions of any of these identity groups, or on any of these listeners. */
export interface Exemption {
  readonly groups: readonly string[];
  readonly listeners: readonly string[];
}

/** One rule, validated and compiled. Rules are tried in order; the first that matches a column wins. */
export interface MaskingRule {
  /** For audit and refusals: the rule's `name`, else `rules[i]`. */
  readonly name: string;
  readonly index: number;
  readonly columns: readonly ColumnPattern[];
  readonly names: readonly NamePattern[];
  readonly types: readonly Glob[];
  readonly detectors: readonly Detector[];
  /** Detector rules: mask each matching substring (`match`) or the whole value (`value`). */
  readonly scope: 'match' | 'value';
  readonly strategy: Strategy;
  /** For values computed from a sensitive column (lower(email), string_agg, row_to_json...). */
  readonly derived: Strategy;
  readonly exempt: Exemption;
}

export interface MaskingOptions {
  readonly key: MaskingKey | undefined;
  readonly fallback: Fallback;
  readonly fallbackScope: FallbackScope;
  readonly unknownRelations: UnknownRelations;
  readonly sensitiveCopies: SensitiveCopies;
  readonly redaction: string;
  readonly exempt: Exemption;
  readonly rules: readonly MaskingRule[];
  readonly views: StaticViewResolver | undefined;
  readonly cacheSize: number;
}

type Path = readonly (string | number)[];

const TOP_KEYS = ['key', 'fallback', 'fallbackScope', 'unknownRelations', 'sensitiveCopies', 'redaction', 'exempt', 'rules', 'detectors', 'views', 'cacheSize'];
const RULE_KEYS = ['name', 'columns', 'names', 'types', 'type', 'detect', 'scope', 'strategy', 'derived', 'exempt'];

/** Validates the plugin's `options`; throws PluginOptionsError naming the bad key's path. */
export function parseMaskingOptions(raw: unknown): MaskingOptions {
  const o = record(raw ?? {}, []);
  unknownKeys(o, TOP_KEYS, []);
  const redaction = o.redaction === undefined ? DEFAULT_REDACTION : string(o.redaction, ['redaction']);
  const custom = customDetectors(o.detectors);
  const exempt = exemption(o.exempt, ['exempt']);
  const rulesRaw = o.rules === undefined ? [] : array(o.rules, ['rules']);
  const rules = rulesRaw.map((r, i) => rule(r, i, redaction, custom));
  const key = maskingKey(o.key);
  if (!key) {
    for (const r of rules) {
      for (const [field, s] of [['strategy', r.strategy], ['derived', r.derived]] as const) {
        if (s.kind === 'hash' || s.kind === 'pseudonym') {
          throw new PluginOptionsError(['key'], `rules[${r.index}].${field} uses ${s.kind}, which needs a key: set key: "\${env:NAME}"`);
        }
      }
    }
  }
  const cacheSize = o.cacheSize === undefined ? 10_000 : integer(o.cacheSize, ['cacheSize'], 1, 10_000_000);
  return {
    key,
    fallback: oneOf(o.fallback ?? 'refuse', ['refuse', 'redact-all'] as const, ['fallback']),
    fallbackScope: oneOf(o.fallbackScope ?? 'sensitive-reads', ['sensitive-reads', 'all'] as const, ['fallbackScope']),
    unknownRelations: oneOf(o.unknownRelations ?? 'fallback', ['fallback', 'table'] as const, ['unknownRelations']),
    sensitiveCopies: oneOf(o.sensitiveCopies ?? 'refuse', ['refuse', 'allow'] as const, ['sensitiveCopies']),
    redaction,
    exempt,
    rules,
    views: o.views === undefined ? undefined : views(o.views),
    cacheSize,
  };
}

function maskingKey(value: unknown): MaskingKey | undefined {
  if (value === undefined) return undefined;
  // Core's Secret, or anything shaped like it: reveal() is the one way to the value.
  if (typeof value === 'object' && value !== null && typeof (value as { reveal?: unknown }).reveal === 'function') {
    const secret = (value as { reveal(): unknown }).reveal();
    if (typeof secret !== 'string' || secret.length < 16) {
      throw new PluginOptionsError(['key'], 'the masking key must be at least 16 characters');
    }
    return new MaskingKey(secret);
  }
  if (typeof value === 'string') {
    throw new PluginOptionsError(['key'], 'the key must come from a secret reference ("${env:NAME}" or "${file:PATH}"), not literal text');
  }
  throw new PluginOptionsError(['key'], 'must be a secret reference ("${env:NAME}" or "${file:PATH}")');
}

function customDetectors(value: unknown): Map<string, Detector> {
  const out = new Map<string, Detector>();
  if (value === undefined) return out;
  array(value, ['detectors']).forEach((d, i) => {
    const path = ['detectors', i];
    const o = record(d, path);
    unknownKeys(o, ['name', 'pattern', 'flags'], path);
    const name = string(o.name, [...path, 'name']);
    if (isBuiltinDetector(name) || out.has(name)) throw new PluginOptionsError([...path, 'name'], `detector "${name}" is already defined`);
    const pattern = string(o.pattern, [...path, 'pattern']);
    const flags = o.flags === undefined ? '' : string(o.flags, [...path, 'flags'], true);
    if (!/^[imsu]*$/.test(flags)) throw new PluginOptionsError([...path, 'flags'], 'flags may be i, m, s and u');
    try {
      out.set(name, customDetector(name, pattern, flags));
    } catch (err) {
      throw new PluginOptionsError([...path, 'pattern'], `not a valid regular expression: ${(err as Error).message}`);
    }
  });
  return out;
}

function rule(raw: unknown, index: number, redaction: string, custom: ReadonlyMap<string, Detector>): MaskingRule {
  const path = ['rules', index];
  const o = record(raw, path);
  unknownKeys(o, RULE_KEYS, path);
  if (o.type !== undefined && o.types !== undefined) throw new PluginOptionsError([...path, 'type'], 'give either type or types');
  const patterns = <T>(key: string, make: (text: string) => T): T[] => {
    if (o[key] === undefined) return [];
    const list = typeof o[key] === 'string' ? [o[key] as string] : stringArray(o[key], [...path, key]);
    return list.map((text, i) => {
      try {
        return make(text);
      } catch (err) {
        throw new PluginOptionsError([...path, key, i], (err as Error).message);
      }
    });
  };
  const columns = patterns('columns', (t) => new ColumnPattern(t));
  const names = patterns('names', (t) => new NamePattern(t));
  const types = patterns(o.type !== undefined ? 'type' : 'types', (t) => new Glob(t));
  const detectNames = o.detect === undefined ? [] : (typeof o.detect === 'string' ? [o.detect] : stringArray(o.detect, [...path, 'detect']));
  const detectors = detectNames.map((name, i) => {
    if (isBuiltinDetector(name)) return builtinDetector(name);
    const found = custom.get(name);
    if (!found) {
      throw new PluginOptionsError([...path, 'detect', i], `unknown detector "${name}"; built in: ${BUILTIN_DETECTORS.join(', ')}; or define it under detectors`);
    }
    return found;
  });
  const matchers = columns.length + names.length + types.length;
  if (matchers === 0 && detectors.length === 0) {
    throw new PluginOptionsError(path, 'a rule needs columns, names, types or detect');
  }
  if (matchers > 0 && detectors.length > 0) {
    throw new PluginOptionsError([...path, 'detect'], 'detect cannot be combined with columns, names or types in one rule; write two rules');
  }
  if (o.scope !== undefined && detectors.length === 0) throw new PluginOptionsError([...path, 'scope'], 'scope applies to detect rules only');
  const scope = oneOf(o.scope ?? 'match', ['match', 'value'] as const, [...path, 'scope']);
  const strategy = o.strategy === undefined ? redactStrategy(redaction) : parseStrategy(o.strategy, [...path, 'strategy'], redaction);
  if (strategy.kind === 'null' && detectors.length > 0 && scope === 'match') {
    throw new PluginOptionsError([...path, 'strategy'], 'null replaces whole values: use scope: value with it');
  }
  const derived = o.derived === undefined
    // Shape-keeping strategies would reveal part of a value the database computed (reverse(email)).
    ? (strategy.kind === 'partial' || strategy.kind === 'email' ? redactStrategy(redaction) : strategy)
    : parseStrategy(o.derived, [...path, 'derived'], redaction);
  return {
    name: o.name === undefined ? `rules[${index}]` : string(o.name, [...path, 'name']),
    index,
    columns,
    names,
    types,
    detectors,
    scope,
    strategy,
    derived,
    exempt: exemption(o.exempt, [...path, 'exempt']),
  };
}

function redactStrategy(text: string): Strategy {
  return { kind: 'redact', text, typed: true };
}

/** `redact` | `{ redact: "XXX" }` | `{ partial: { first: 0, last: 4, char: "*" } }` | ... */
export function parseStrategy(raw: unknown, path: Path, redaction = DEFAULT_REDACTION): Strategy {
  let kind: string;
  let args: unknown;
  if (typeof raw === 'string') {
    kind = raw;
    args = undefined;
  } else {
    const o = record(raw, path);
    const keys = Object.keys(o);
    if (keys.length !== 1) throw new PluginOptionsError(path, `give exactly one strategy of ${STRATEGY_KINDS.join(', ')}`);
    kind = keys[0]!;
    args = o[kind];
  }
  if (!(STRATEGY_KINDS as readonly string[]).includes(kind)) {
    throw new PluginOptionsError(typeof raw === 'string' ? path : [...path, kind], `unknown strategy "${kind}"; use one of ${STRATEGY_KINDS.join(', ')}`);
  }
  const at = [...path, kind];
  const opts = (allowed: string[]): Record<string, unknown> => {
    if (args === undefined || args === null || args === true) return {};
    const o = record(args, at);
    unknownKeys(o, allowed, at);
    return o;
  };
  switch (kind as StrategyKind) {
    case 'redact': {
      if (typeof args === 'string') return { kind: 'redact', text: args, typed: true };
      const o = opts(['text', 'typed']);
      return {
        kind: 'redact',
        text: o.text === undefined ? redaction : string(o.text, [...at, 'text'], true),
        typed: o.typed === undefined ? true : boolean(o.typed, [...at, 'typed']),
      };
    }
    case 'partial': {
      const o = opts(['first', 'last', 'char']);
      const first = o.first === undefined ? 0 : integer(o.first, [...at, 'first'], 0, 64);
      const last = o.last === undefined ? (o.first === undefined ? 4 : 0) : integer(o.last, [...at, 'last'], 0, 64);
      const char = o.char === undefined ? '*' : string(o.char, [...at, 'char']);
      if (Array.from(char).length !== 1) throw new PluginOptionsError([...at, 'char'], 'must be one character');
      return { kind: 'partial', first, last, char };
    }
    case 'email': {
      const o = opts(['keep']);
      return { kind: 'email', keep: o.keep === undefined ? 1 : integer(o.keep, [...at, 'keep'], 0, 64) };
    }
    case 'hash': {
      const o = opts(['length']);
      return { kind: 'hash', length: o.length === undefined ? 16 : integer(o.length, [...at, 'length'], 4, 64) };
    }
    case 'pseudonym':
      opts([]);
      return { kind: 'pseudonym' };
    case 'null':
      opts([]);
      return { kind: 'null' };
  }
}

function exemption(raw: unknown, path: Path): Exemption {
  if (raw === undefined) return { groups: [], listeners: [] };
  const o = record(raw, path);
  unknownKeys(o, ['groups', 'listeners'], path);
  return {
    groups: o.groups === undefined ? [] : stringArray(o.groups, [...path, 'groups']),
    listeners: o.listeners === undefined ? [] : stringArray(o.listeners, [...path, 'listeners']),
  };
}

function views(raw: unknown): StaticViewResolver {
  const o = record(raw, ['views']);
  const definitions = new Map<string, Map<string, ColumnRef[]>>();
  for (const [view, columnsRaw] of Object.entries(o)) {
    const path = ['views', view];
    if (!/^[^.]+(\.[^.]+)?$/.test(view)) throw new PluginOptionsError(path, 'a view is named schema.view or view');
    const columns = new Map<string, ColumnRef[]>();
    for (const [column, sourcesRaw] of Object.entries(record(columnsRaw, path))) {
      const sources = (typeof sourcesRaw === 'string' ? [sourcesRaw] : stringArray(sourcesRaw, [...path, column])).map((text, i) => {
        const parts = text.split('.');
        if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.length === 0)) {
          throw new PluginOptionsError([...path, column, i], `"${text}" is not schema.table.column or table.column`);
        }
        const [c, t, s] = [...parts].reverse() as [string, string, string | undefined];
        return s === undefined ? { table: t, column: c } : { schema: s, table: t, column: c };
      });
      columns.set(column, sources);
    }
    definitions.set(view, columns);
  }
  return new StaticViewResolver(definitions);
}

// --- small validators: each throws with the exact path ---

function record(value: unknown, path: Path): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PluginOptionsError(path, 'must be a mapping');
  return value as Record<string, unknown>;
}

function array(value: unknown, path: Path): unknown[] {
  if (!Array.isArray(value)) throw new PluginOptionsError(path, 'must be a list');
  return value;
}

function string(value: unknown, path: Path, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0)) throw new PluginOptionsError(path, 'must be a non-empty string');
  return value;
}

function stringArray(value: unknown, path: Path): string[] {
  return array(value, path).map((v, i) => string(v, [...path, i]));
}

function boolean(value: unknown, path: Path): boolean {
  if (typeof value !== 'boolean') throw new PluginOptionsError(path, 'must be true or false');
  return value;
}

function integer(value: unknown, path: Path, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new PluginOptionsError(path, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: Path): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new PluginOptionsError(path, `must be one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function unknownKeys(o: Record<string, unknown>, allowed: readonly string[], path: Path): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw new PluginOptionsError([...path, key], `unknown option; expected one of ${allowed.join(', ')}`);
  }
}
