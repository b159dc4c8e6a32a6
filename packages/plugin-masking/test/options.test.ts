import { PluginOptionsError } from '@querygate/core';
import { parseMaskingOptions } from '../src';
import { KEY, loadMasking } from './fixtures';

function problem(options: unknown): { path: readonly (string | number)[]; message: string } {
  try {
    parseMaskingOptions(options);
  } catch (err) {
    expect(err).toBeInstanceOf(PluginOptionsError);
    return { path: (err as PluginOptionsError).path, message: (err as Error).message };
  }
  throw new Error('expected a PluginOptionsError');
}

describe('option validation', () => {
  it.each([
    ['not a mapping', 'nope', [], /mapping/],
    ['unknown top-level key', { rule: [] }, ['rule'], /unknown option/],
    ['bad fallback', { fallback: 'ignore' }, ['fallback'], /refuse, redact-all/],
    ['bad fallbackScope', { fallbackScope: 'some' }, ['fallbackScope'], /sensitive-reads, all/],
    ['rules not a list', { rules: {} }, ['rules'], /list/],
    ['rule without matcher', { rules: [{ strategy: 'redact' }] }, ['rules', 0], /columns, names, types or detect/],
    ['bad column pattern', { rules: [{ columns: ['email'] }] }, ['rules', 0, 'columns', 0], /schema.table.column/],
    ['empty name pattern part', { rules: [{ names: ['a..b'] }] }, ['rules', 0, 'names', 0], /name pattern/],
    ['unknown strategy', { rules: [{ columns: ['users.email'], strategy: 'shuffle' }] }, ['rules', 0, 'strategy'], /unknown strategy "shuffle"/],
    ['unknown strategy key', { rules: [{ columns: ['users.email'], strategy: { scramble: {} } }] }, ['rules', 0, 'strategy', 'scramble'], /unknown strategy/],
    ['two strategies', { rules: [{ columns: ['users.email'], strategy: { redact: {}, hash: {} } }] }, ['rules', 0, 'strategy'], /exactly one/],
    ['negative partial', { rules: [{ columns: ['users.ssn'], strategy: { partial: { last: -1 } } }] }, ['rules', 0, 'strategy', 'partial', 'last'], /integer/],
    ['long partial char', { rules: [{ columns: ['users.ssn'], strategy: { partial: { char: '**' } } }] }, ['rules', 0, 'strategy', 'partial', 'char'], /one character/],
    ['unknown partial option', { rules: [{ columns: ['users.ssn'], strategy: { partial: { middle: 1 } } }] }, ['rules', 0, 'strategy', 'partial', 'middle'], /unknown option/],
    ['hash length', { key: KEY, rules: [{ columns: ['users.ssn'], strategy: { hash: { length: 100 } } }] }, ['rules', 0, 'strategy', 'hash', 'length'], /4 to 64/],
    ['hash without key', { rules: [{ columns: ['users.ssn'], strategy: 'hash' }] }, ['key'], /rules\[0\]\.strategy uses hash/],
    ['pseudonym derived without key', { rules: [{ columns: ['users.ssn'], derived: 'pseudonym' }] }, ['key'], /rules\[0\]\.derived uses pseudonym/],
    ['literal key', { key: 'plain-text-key-1234567890' }, ['key'], /secret reference/],
    ['short key', { key: { reveal: (): string => 'short' } }, ['key'], /16 characters/],
    ['unknown detector', { rules: [{ detect: ['email', 'passport'] }] }, ['rules', 0, 'detect', 1], /unknown detector "passport"/],
    ['detect with columns', { rules: [{ detect: ['email'], columns: ['users.email'] }] }, ['rules', 0, 'detect'], /cannot be combined/],
    ['scope without detect', { rules: [{ columns: ['users.email'], scope: 'value' }] }, ['rules', 0, 'scope'], /detect rules only/],
    ['null with match scope', { rules: [{ detect: ['email'], strategy: 'null' }] }, ['rules', 0, 'strategy'], /scope: value/],
    ['bad regex', { detectors: [{ name: 'emp', pattern: '(' }] }, ['detectors', 0, 'pattern'], /regular expression/],
    ['detector shadows a built-in', { detectors: [{ name: 'email', pattern: 'x' }] }, ['detectors', 0, 'name'], /already defined/],
    ['bad detector flags', { detectors: [{ name: 'emp', pattern: 'x', flags: 'g' }] }, ['detectors', 0, 'flags'], /flags/],
    ['exempt groups not strings', { exempt: { groups: [1] } }, ['exempt', 'groups', 0], /string/],
    ['per-rule exempt unknown key', { rules: [{ columns: ['users.email'], exempt: { roles: [] } }] }, ['rules', 0, 'exempt', 'roles'], /unknown option/],
    ['type and types', { rules: [{ type: ['inet'], types: ['cidr'] }] }, ['rules', 0, 'type'], /either/],
    ['view source', { views: { 'public.v': { email: ['email'] } } }, ['views', 'public.v', 'email', 0], /table.column/],
    ['cacheSize', { cacheSize: 0 }, ['cacheSize'], /integer/],
  ])('%s', (_name, options, path, message) => {
    const p = problem(options);
    expect(p.path).toEqual(path);
    expect(p.message).toMatch(message);
  });

  it('accepts the documented example', () => {
    const o = parseMaskingOptions({
      key: KEY,
      fallback: 'refuse',
      exempt: { groups: ['dba'] },
      rules: [
        { columns: ['public.users.email'], strategy: 'email' },
        { names: ['*ssn*'], strategy: { partial: { last: 4 } } },
        { type: ['inet', 'macaddr'], strategy: 'redact' },
        { detect: ['credit_card'], strategy: 'redact' },
      ],
    });
    expect(o.rules.map((r) => [r.name, r.strategy.kind, r.derived.kind])).toEqual([
      ['rules[0]', 'email', 'redact'], ['rules[1]', 'partial', 'redact'], ['rules[2]', 'redact', 'redact'], ['rules[3]', 'redact', 'redact'],
    ]);
    expect(o.fallback).toBe('refuse');
    expect(o.key).toBeDefined();
  });

  it('defaults: refuse, sensitive reads, unknown relations fall back, copies refused', () => {
    const o = parseMaskingOptions(undefined);
    expect([o.fallback, o.fallbackScope, o.unknownRelations, o.sensitiveCopies, o.redaction]).toEqual(['refuse', 'sensitive-reads', 'fallback', 'refuse', '****']);
  });

  it('the plugin reports bad options as PluginOptionsError (the loader adds plugins[i].options)', async () => {
    await expect(loadMasking({ rules: [{ columns: ['x'] }] })).rejects.toMatchObject({ name: 'PluginOptionsError', path: ['rules', 0, 'columns', 0] });
  });
});
