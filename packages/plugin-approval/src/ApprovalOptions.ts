import { parseDuration, PluginOptionsError, Secret } from '@querygate/core';
import type { ApprovalMode } from './ApprovalRequest';
import { isSqlIdentifier } from './store/PostgresApprovalStore';

export interface JwtIssuerOptions {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly jwks: { readonly file: string } | { readonly url: string };
  readonly algorithms: readonly string[];
  readonly clockToleranceSec: number;
  /** Claim that names the approver (default `sub`). */
  readonly subjectClaim: string;
  /** Claim holding a list of group names (default `groups`). */
  readonly groupsClaim: string;
  /** Claims that become groups as `claim:value`, as in core's `identities.oidc[].groupsFrom`. */
  readonly groupsFrom: readonly string[];
}

export interface LocalApproverOptions {
  readonly name: string;
  readonly password: Secret;
  readonly groups: readonly string[];
}

export type StoreOptions =
  | { readonly type: 'file'; readonly path: string | undefined; readonly retentionMs: number }
  | { readonly type: 'postgres'; readonly url: Secret | string; readonly table: string; readonly channel: string; readonly pollIntervalMs: number }
  | { readonly type: 'memory' };

export interface WebhookOptions {
  readonly url: Secret | string;
  readonly format: 'json' | 'slack';
  readonly headers: Readonly<Record<string, Secret | string>>;
  readonly events: readonly ('requested' | 'decided')[];
  readonly attempts: number;
  readonly backoffMs: number;
  readonly timeoutMs: number;
}

export interface ApprovalOptions {
  readonly mode: ApprovalMode;
  readonly timeoutMs: number;
  readonly maxWindowMs: number;
  readonly retryGrantMs: number;
  readonly sweepIntervalMs: number;
  readonly approvers: { readonly groups: readonly string[]; readonly count: number };
  readonly auth: { readonly jwt: readonly JwtIssuerOptions[]; readonly users: readonly LocalApproverOptions[] };
  readonly store: StoreOptions;
  readonly webhooks: readonly WebhookOptions[];
}

type Path = (string | number)[];

const TOP_KEYS = ['mode', 'timeout', 'maxWindow', 'retryGrant', 'sweepInterval', 'approvers', 'auth', 'store', 'webhooks'];

function fail(path: Path, message: string): never {
  throw new PluginOptionsError(path, message);
}

function record(value: unknown, path: Path, keys: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Secret) fail(path, 'must be a mapping');
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!keys.includes(key)) fail([...path, key], `unknown key; expected one of ${keys.join(', ')}`);
  }
  return obj;
}

function list(value: unknown, path: Path): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail(path, 'must be a list');
  return value;
}

function text(value: unknown, path: Path): string {
  if (typeof value !== 'string' || value === '') fail(path, 'must be a non-empty string');
  return value;
}

function strings(value: unknown, path: Path): string[] {
  return list(value, path).map((v, i) => text(v, [...path, i]));
}

function duration(value: unknown, fallback: number, path: Path, min = 1): number {
  if (value === undefined) return fallback;
  const ms = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : undefined;
  if (ms === undefined) fail(path, 'must be a duration such as 30s, 15m, 2h, 1d (or milliseconds)');
  if (ms < min) fail(path, `must be at least ${min} ms`);
  return ms;
}

function positiveInt(value: unknown, fallback: number, path: Path): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(path, 'must be a whole number of at least 1');
  return value;
}

function secretOrText(value: unknown, path: Path): Secret | string {
  if (value instanceof Secret) return value;
  return text(value, path);
}

export function reveal(value: Secret | string): string {
  return value instanceof Secret ? value.reveal() : value;
}

/** Validates the plugin's `options`; errors name the key path under `plugins[i].options`. */
export function parseApprovalOptions(raw: unknown): ApprovalOptions {
  const o = record(raw ?? {}, [], TOP_KEYS);
  const mode = o.mode ?? 'hold';
  if (mode !== 'hold' && mode !== 'reject-and-retry') fail(['mode'], 'must be hold or reject-and-retry');

  const a = record(o.approvers, ['approvers'], ['groups', 'count']);
  const groups = strings(a.groups, ['approvers', 'groups']);
  if (groups.length === 0) fail(['approvers', 'groups'], 'name at least one group whose members may approve');
  const count = positiveInt(a.count, 1, ['approvers', 'count']);

  const auth = record(o.auth ?? {}, ['auth'], ['jwt', 'users']);
  const jwtRaw = auth.jwt === undefined ? [] : Array.isArray(auth.jwt) ? auth.jwt : [auth.jwt];
  const jwtPath = (i: number): Path => (Array.isArray(auth.jwt) ? ['auth', 'jwt', i] : ['auth', 'jwt']);
  const jwt = jwtRaw.map((entry, i) => parseJwt(entry, jwtPath(i)));
  const users = list(auth.users, ['auth', 'users']).map((entry, i) => {
    const path: Path = ['auth', 'users', i];
    const u = record(entry, path, ['name', 'password', 'groups']);
    if (!(u.password instanceof Secret)) fail([...path, 'password'], 'must be a secret reference ${env:NAME} or ${file:PATH}, never literal text');
    return { name: text(u.name, [...path, 'name']), password: u.password, groups: strings(u.groups, [...path, 'groups']) };
  });
  if (jwt.length === 0 && users.length === 0) {
    fail(['auth'], 'configure `auth.jwt` (OIDC/JWT bearer tokens) or `auth.users` (HTTP Basic), or nobody can approve');
  }

  return {
    mode,
    timeoutMs: duration(o.timeout, 15 * 60_000, ['timeout'], 100),
    maxWindowMs: duration(o.maxWindow, 24 * 3_600_000, ['maxWindow']),
    retryGrantMs: duration(o.retryGrant, 3_600_000, ['retryGrant']),
    sweepIntervalMs: duration(o.sweepInterval, 5_000, ['sweepInterval'], 50),
    approvers: { groups, count },
    auth: { jwt, users },
    store: parseStore(o.store),
    webhooks: list(o.webhooks, ['webhooks']).map((w, i) => parseWebhook(w, ['webhooks', i])),
  };
}

function parseJwt(value: unknown, path: Path): JwtIssuerOptions {
  const j = record(value, path, ['issuer', 'audience', 'jwks', 'algorithms', 'clockSkew', 'subjectClaim', 'groupsClaim', 'groupsFrom']);
  const audience = Array.isArray(j.audience) ? strings(j.audience, [...path, 'audience']) : text(j.audience, [...path, 'audience']);
  const k = record(j.jwks, [...path, 'jwks'], ['file', 'url']);
  let jwks: JwtIssuerOptions['jwks'];
  if (k.file !== undefined && k.url === undefined) jwks = { file: text(k.file, [...path, 'jwks', 'file']) };
  else if (k.url !== undefined && k.file === undefined) {
    const url = text(k.url, [...path, 'jwks', 'url']);
    if (!/^https?:\/\//.test(url)) fail([...path, 'jwks', 'url'], 'must be an http(s) URL');
    jwks = { url };
  } else fail([...path, 'jwks'], 'give exactly one of `file` or `url`');
  const algorithms = j.algorithms === undefined ? ['RS256', 'ES256', 'EdDSA'] : strings(j.algorithms, [...path, 'algorithms']);
  return {
    issuer: text(j.issuer, [...path, 'issuer']),
    audience,
    jwks,
    algorithms,
    clockToleranceSec: Math.round(duration(j.clockSkew, 30_000, [...path, 'clockSkew'], 0) / 1000),
    subjectClaim: j.subjectClaim === undefined ? 'sub' : text(j.subjectClaim, [...path, 'subjectClaim']),
    groupsClaim: j.groupsClaim === undefined ? 'groups' : text(j.groupsClaim, [...path, 'groupsClaim']),
    groupsFrom: strings(j.groupsFrom, [...path, 'groupsFrom']),
  };
}

function parseStore(value: unknown): StoreOptions {
  const s = record(value ?? { type: 'file' }, ['store'], ['type', 'path', 'retention', 'url', 'table', 'channel', 'pollInterval']);
  const type = s.type ?? 'file';
  const only = (keys: readonly string[]): void => {
    for (const key of Object.keys(s)) if (key !== 'type' && !keys.includes(key)) fail(['store', key], `not an option of the ${String(type)} store`);
  };
  if (type === 'file') {
    only(['path', 'retention']);
    return { type, path: s.path === undefined ? undefined : text(s.path, ['store', 'path']), retentionMs: duration(s.retention, 30 * 86_400_000, ['store', 'retention']) };
  }
  if (type === 'postgres') {
    only(['url', 'table', 'channel', 'pollInterval']);
    const table = s.table === undefined ? 'querygate_approvals' : text(s.table, ['store', 'table']);
    if (!isSqlIdentifier(table)) fail(['store', 'table'], 'must be a lower-case SQL identifier, optionally schema-qualified (schema.table)');
    const channel = s.channel === undefined ? 'querygate_approvals' : text(s.channel, ['store', 'channel']);
    if (!isSqlIdentifier(channel) || channel.includes('.')) fail(['store', 'channel'], 'must be a lower-case SQL identifier');
    return { type, url: secretOrText(s.url, ['store', 'url']), table, channel, pollIntervalMs: duration(s.pollInterval, 2_000, ['store', 'pollInterval'], 50) };
  }
  if (type === 'memory') {
    only([]);
    return { type };
  }
  return fail(['store', 'type'], 'must be file, postgres or memory');
}

function parseWebhook(value: unknown, path: Path): WebhookOptions {
  const w = record(value, path, ['url', 'format', 'headers', 'events', 'attempts', 'backoff', 'timeout']);
  const url = secretOrText(w.url, [...path, 'url']);
  if (!/^https?:\/\//.test(reveal(url))) fail([...path, 'url'], 'must be an http(s) URL');
  const format = w.format ?? 'json';
  if (format !== 'json' && format !== 'slack') fail([...path, 'format'], 'must be json or slack');
  const headers: Record<string, Secret | string> = {};
  if (w.headers !== undefined) {
    const h = w.headers;
    if (typeof h !== 'object' || h === null || Array.isArray(h)) fail([...path, 'headers'], 'must be a mapping');
    for (const [k, v] of Object.entries(h)) headers[k] = secretOrText(v, [...path, 'headers', k]);
  }
  const events = w.events === undefined ? ['requested', 'decided'] as const : strings(w.events, [...path, 'events']).map((e, i) => {
    if (e !== 'requested' && e !== 'decided') fail([...path, 'events', i], 'must be requested or decided');
    return e;
  });
  return {
    url,
    format,
    headers,
    events,
    attempts: positiveInt(w.attempts, 5, [...path, 'attempts']),
    backoffMs: duration(w.backoff, 500, [...path, 'backoff']),
    timeoutMs: duration(w.timeout, 5_000, [...path, 'timeout']),
  };
}
