import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatPath, type ConfigProblem } from './ConfigError';
import { configSchema, SECRET_REF, type GatewayConfig } from './schema';
import { Secret } from './Secret';

export interface LoadedConfig {
  readonly config: GatewayConfig;
  readonly file: string;
  /** Line of a key path in the source, for errors found after loading (plugin options). */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

export interface LoadOptions {
  /** Where `${env:NAME}` is looked up (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Reads, resolves and validates a config file. Throws ConfigError listing every problem. */
export function loadConfigFile(file: string, options: LoadOptions = {}): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `cannot read the file: ${(err as Error).message}` }]);
  }
  return parseConfig(text, file, options);
}

/** Resolves relative paths against the config file's directory. */
const PATH_KEYS: readonly (readonly (string | number | '*')[])[] = [
  ['gateway', 'dataDir'],
  ['listeners', '*', 'tls', 'cert'],
  ['listeners', '*', 'tls', 'key'],
  ['listeners', '*', 'upstream', 'tls', 'ca'],
  ['identities', 'oidc', '*', 'jwks', 'file'],
  ['audit', 'sinks', '*', 'path'],
  ['recording', 'dir'],
];

export function parseConfig(text: string, file: string, options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const baseDir = dirname(resolve(file));
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const lineAt = (offset: number | undefined): number | undefined => (offset === undefined ? undefined : lines.linePos(offset).line);
  const lineOf = (path: readonly (string | number)[]): number | undefined => lineAt(locate(doc, path));

  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => ({ path: '', line: lineAt(e.pos[0]), message: `YAML: ${e.message.split('\n')[0]}` })));
  }
  const problems: ConfigProblem[] = [];
  const raw: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};

  const resolved = resolveSecrets(raw, [], (path, message) => problems.push({ path: formatPath(path), line: lineOf(path), message }), env, baseDir);

  const parsed = configSchema.safeParse(resolved);
  if (!parsed.success) {
    const reported = new Set(problems.map((p) => p.path));
    for (const issue of parsed.error.issues) {
      // A secret that failed to resolve was reported already; its schema error would only repeat it.
      problems.push(...describeIssue(issue, lineOf).filter((p) => !reported.has(p.path)));
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(file, dedupe(problems));
  }
  const config = parsed.data;
  const names = new Set<string>();
  config.listeners.forEach((l, i) => {
    if (names.has(l.name)) problems.push({ path: `listeners[${i}].name`, line: lineOf(['listeners', i, 'name']), message: `duplicate listener name "${l.name}"` });
    names.add(l.name);
  });
  const listens = new Set<string>();
  config.listeners.forEach((l, i) => {
    // Port 0 asks the OS for a free port, so two listeners may both say it (tests do).
    if (listens.has(l.listen) && !l.listen.endsWith(':0')) problems.push({ path: `listeners[${i}].listen`, line: lineOf(['listeners', i, 'listen']), message: `address ${l.listen} is used by another listener` });
    listens.add(l.listen);
  });
  config.access?.forEach((rule, i) => rule.listeners.forEach((name, j) => {
    if (name !== '*' && !names.has(name)) problems.push({ path: `access[${i}].listeners[${j}]`, line: lineOf(['access', i, 'listeners', j]), message: `no listener is named "${name}"` });
  }));
  const users = new Set<string>();
  config.identities.users.forEach((u, i) => {
    if (users.has(u.name)) problems.push({ path: `identities.users[${i}].name`, line: lineOf(['identities', 'users', i, 'name']), message: `duplicate user "${u.name}"` });
    users.add(u.name);
  });
  if (problems.length > 0) throw new ConfigError(file, problems);

  for (const pattern of PATH_KEYS) rebasePaths(config as unknown as Record<string, unknown>, pattern, baseDir);
  return { config, file, lineOf };
}

function describeIssue(issue: z.ZodIssue, lineOf: (path: readonly (string | number)[]) => number | undefined): ConfigProblem[] {
  if (issue.code === z.ZodIssueCode.unrecognized_keys) {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      return { path: formatPath(path), line: lineOf(path), message: 'unknown key' };
    });
  }
  if (issue.code === z.ZodIssueCode.invalid_union_discriminator || issue.code === z.ZodIssueCode.invalid_union) {
    const nested = issue.code === z.ZodIssueCode.invalid_union ? issue.unionErrors.flatMap((e) => e.issues) : [];
    const hint = nested.length > 0 ? `: ${nested.map((n) => `${formatPath(n.path)} ${n.message}`).join('; or ')}` : '';
    return [{ path: formatPath(issue.path), line: lineOf(issue.path), message: `${issue.message}${hint}` }];
  }
  let message = issue.message;
  if (issue.code === z.ZodIssueCode.invalid_type) {
    message = issue.received === 'undefined' ? 'required key is missing' : `expected ${issue.expected}, got ${issue.received}`;
  }
  return [{ path: formatPath(issue.path), line: lineOf(issue.path), message }];
}

function resolveSecrets(
  value: unknown,
  path: (string | number)[],
  report: (path: readonly (string | number)[], message: string) => void,
  env: Readonly<Record<string, string | undefined>>,
  baseDir: string,
): unknown {
  if (typeof value === 'string') {
    const match = SECRET_REF.exec(value);
    if (!match) {
      if (value.includes('${')) report(path, 'a secret reference must be the whole value: ${env:NAME} or ${file:PATH}');
      return value;
    }
    const [, kind, ref] = match;
    if (kind === 'env') {
      const found = env[ref!];
      if (found === undefined) {
        report(path, `environment variable ${ref} is not set`);
        return value;
      }
      return new Secret(found, `env:${ref}`);
    }
    const target = isAbsolute(ref!) ? ref! : resolve(baseDir, ref!);
    try {
      return new Secret(readFileSync(target, 'utf8').replace(/\r?\n$/, ''), `file:${ref}`);
    } catch (err) {
      report(path, `cannot read secret file ${ref}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return value;
    }
  }
  if (Array.isArray(value)) return value.map((item, i) => resolveSecrets(item, [...path, i], report, env, baseDir));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = resolveSecrets(item, [...path, key], report, env, baseDir);
    return out;
  }
  return value;
}

function rebasePaths(node: unknown, pattern: readonly (string | number | '*')[], baseDir: string): void {
  if (!node || typeof node !== 'object' || pattern.length === 0) return;
  const [head, ...rest] = pattern;
  const container = node as Record<string, unknown>;
  const keys = head === '*' ? Object.keys(container) : [String(head)];
  for (const key of keys) {
    if (rest.length === 0) {
      const value = container[key];
      if (typeof value === 'string' && !isAbsolute(value)) container[key] = resolve(baseDir, value);
    } else {
      rebasePaths(container[key], rest, baseDir);
    }
  }
}

/** Offset of the deepest node on `path` that exists (a missing key points at its parent). */
function locate(doc: Document, path: readonly (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0];
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(part));
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part] as Node | undefined;
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function dedupe(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.path}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
