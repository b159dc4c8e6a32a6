import { z } from 'zod';
import { parseDuration } from './duration';
import { Secret } from './Secret';

const SECRET_REF = /^\$\{(env|file):([^}]+)\}$/;

/** A duration as text (`30s`, `15m`) or milliseconds; becomes milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `not a duration: ${JSON.stringify(value)} (use e.g. 500ms, 30s, 15m, 2h)` });
    return z.NEVER;
  }
  return ms;
});

/**
 * A secret must be a reference, never literal text in the config. The loader resolves references
 * to Secret objects before validation; literal text is reported as an error.
 */
const secret = z.custom<Secret>((value) => value instanceof Secret, {
  message: 'must be a secret reference ${env:NAME} or ${file:PATH}, never literal text',
});

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:15432');

const listenerTls = z.object({
  cert: z.string(),
  key: z.string(),
  /** Refuse clients that do not switch to TLS. */
  require: z.boolean().default(false),
}).strict();

const upstreamTls = z.object({
  mode: z.enum(['disable', 'prefer', 'require', 'verify-full']).default('prefer'),
  ca: z.string().optional(),
  servername: z.string().optional(),
}).strict();

const upstream = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  user: z.string().min(1),
  password: secret.optional(),
  /** Database to connect to when the client names none (defaults to the client's). */
  database: z.string().optional(),
  tls: upstreamTls.default({ mode: 'prefer' }),
  connectTimeout: duration.default('10s'),
}).strict();

const listener = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  protocol: z.enum(['postgres', 'mysql']),
  listen: hostPort,
  tls: listenerTls.optional(),
  upstream,
  /** Accept cleartext passwords (OIDC tokens) without TLS. For development only. */
  allowPlaintextPasswords: z.boolean().default(false),
  maxConnections: z.number().int().positive().default(1000),
  /** MySQL: server version string shown to clients (defaults to the upstream's). */
  serverVersion: z.string().optional(),
}).strict();

const localUser = z.object({
  name: z.string().min(1),
  password: secret,
  groups: z.array(z.string()).default([]),
  claims: z.record(z.string(), z.unknown()).optional(),
}).strict();

const oidcIssuer = z.object({
  issuer: z.string().url(),
  audience: z.union([z.string(), z.array(z.string()).nonempty()]),
  jwks: z.union([
    z.object({ url: z.string().url(), timeout: duration.default('5s'), cacheMaxAge: duration.default('10m') }).strict(),
    z.object({ file: z.string() }).strict(),
  ]),
  algorithms: z.array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])).default(['RS256']),
  clockSkew: duration.default('30s'),
  /** Claim used as the identity's subject. */
  subjectClaim: z.string().default('sub'),
  /** Claims that become groups as `claim:value`. */
  groupsFrom: z.array(z.string()).default([]),
  /** Claims that must have exactly these values. */
  require: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
}).strict();

const identities = z.object({
  users: z.array(localUser).default([]),
  oidc: z.array(oidcIssuer).default([]),
  exchange: z.object({ ttl: duration.default('15m') }).strict().default({}),
}).strict();

const accessRule = z.object({
  groups: z.array(z.string()).nonempty(),
  listeners: z.array(z.string()).default(['*']),
  databases: z.array(z.string()).default(['*']),
}).strict();

const plugin = z.object({
  use: z.string().min(1),
  /** Name of this instance when the same plugin is configured twice. */
  name: z.string().optional(),
  options: z.unknown().optional(),
}).strict();

const auditSink = z.discriminatedUnion('type', [
  z.object({ type: z.literal('file'), path: z.string(), fsync: z.boolean().default(false) }).strict(),
  z.object({ type: z.literal('stdout') }).strict(),
]);

export const configSchema = z.object({
  gateway: z.object({
    id: z.string().default('querygate'),
    dataDir: z.string().default('./data'),
    shutdownTimeout: duration.default('30s'),
  }).strict().default({}),
  listeners: z.array(listener).nonempty('at least one listener is needed'),
  identities: identities.default({}),
  /** Omitted: every authenticated identity may open every listener and database. */
  access: z.array(accessRule).optional(),
  pipeline: z.object({
    hookTimeout: duration.default('5s'),
    maxQueuedMessages: z.number().int().positive().default(1000),
  }).strict().default({}),
  plugins: z.array(plugin).default([]),
  audit: z.object({
    sinks: z.array(auditSink).default([{ type: 'file', path: './data/audit.jsonl' }]),
    /** Refuse statements while no audit sink can write. */
    strict: z.boolean().default(false),
  }).strict().default({}),
  recording: z.object({
    dir: z.string().optional(),
    maxRowsPerResult: z.number().int().min(0).default(100),
    /**
     * `normalized` (default): statements are recorded with literals replaced by placeholders, as
     * audit records them, so a value a client typed into a literal is not written. `raw`: the
     * client's own text (and bind parameters), for replays that must show exactly what ran.
     */
    statementText: z.enum(['raw', 'normalized']).default('normalized'),
  }).strict().default({}),
  admin: z.object({
    listen: hostPort,
    publicUrl: z.string().url().optional(),
  }).strict().optional(),
  telemetry: z.object({
    serviceName: z.string().default('querygate'),
    otlp: z.object({ endpoint: z.string().url() }).strict().optional(),
  }).strict().default({}),
  logging: z.object({
    level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  }).strict().default({}),
}).strict();

export type GatewayConfig = z.output<typeof configSchema>;
export type ListenerConfig = GatewayConfig['listeners'][number];
export type UpstreamConfig = ListenerConfig['upstream'];
export type LocalUserConfig = GatewayConfig['identities']['users'][number];
export type OidcIssuerConfig = GatewayConfig['identities']['oidc'][number];
export type AccessRule = NonNullable<GatewayConfig['access']>[number];
export type PluginConfig = GatewayConfig['plugins'][number];

export { SECRET_REF };
