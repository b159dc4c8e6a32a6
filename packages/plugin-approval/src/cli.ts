import type { ApprovalRequest } from './ApprovalRequest';

/** Where the CLI writes and what environment it reads; the binary passes process's own. */
export interface CliIO {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Defaults to the global fetch (tests may pass their own). */
  readonly fetch?: typeof fetch;
}

export const APPROVALS_USAGE = `usage: querygate approvals <command> [options]

commands:
  list [--status pending|approved|denied|expired|cancelled|all] [--limit N] [--json]
  show ID [--json]
  approve ID [--reason TEXT] [--window 30m] [--json]
  deny ID --reason TEXT [--json]

options:
  --admin URL            admin server base URL (env QUERYGATE_ADMIN_URL; default http://127.0.0.1:8080)
  --token JWT            bearer token of an approver (env QUERYGATE_TOKEN)
  --user NAME            local approver (HTTP Basic), with
  --password-env VAR     the name of the environment variable holding the password
`;

const FLAGS_WITH_VALUE = new Set(['--admin', '--token', '--user', '--password-env', '--status', '--limit', '--reason', '--window']);
const BOOLEAN_FLAGS = new Set(['--json', '--help', '-h']);

class UsageError extends Error {}

interface Parsed {
  readonly positional: string[];
  readonly flags: Map<string, string>;
  readonly switches: Set<string>;
}

function parseArgs(args: readonly string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (FLAGS_WITH_VALUE.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      flags.set(name, value);
    } else if (BOOLEAN_FLAGS.has(arg)) {
      switches.add(arg);
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      positional.push(arg);
    }
  }
  return { positional, flags, switches };
}

/**
 * `querygate approvals list|show|approve|deny` against the admin API. Returns the exit code:
 * 0 done, 1 the API refused or could not be reached, 2 bad usage.
 */
export async function runApprovalsCli(args: readonly string[], io: CliIO): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(args);
  } catch (err) {
    io.stderr.write(`querygate approvals: ${(err as Error).message}\n\n${APPROVALS_USAGE}`);
    return 2;
  }
  const { positional, flags, switches } = parsed;
  const [command, id, ...extra] = positional;
  if (switches.has('--help') || switches.has('-h') || command === undefined || command === 'help') {
    (command === undefined && !switches.has('--help') && !switches.has('-h') ? io.stderr : io.stdout).write(APPROVALS_USAGE);
    return command === undefined && !switches.has('--help') && !switches.has('-h') ? 2 : 0;
  }
  const usage = (message: string): number => {
    io.stderr.write(`querygate approvals: ${message}\n\n${APPROVALS_USAGE}`);
    return 2;
  };
  if (!['list', 'show', 'approve', 'deny'].includes(command)) return usage(`unknown command "${command}"`);
  if (command === 'list' ? id !== undefined : id === undefined) return usage(command === 'list' ? 'list takes no request id' : `${command} needs a request id`);
  if (extra.length > 0) return usage(`unexpected argument "${extra[0]}"`);
  if (command === 'deny' && !flags.get('--reason')?.trim()) return usage('deny needs --reason (the client sees it)');

  let authorization: string;
  const token = flags.get('--token') ?? io.env.QUERYGATE_TOKEN;
  const user = flags.get('--user');
  if (user !== undefined) {
    const variable = flags.get('--password-env');
    if (!variable) return usage('--user needs --password-env VAR (the password is never given on the command line)');
    const password = io.env[variable];
    if (password === undefined) return usage(`environment variable ${variable} is not set`);
    authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  } else if (token) {
    authorization = `Bearer ${token}`;
  } else {
    return usage('give --token JWT (or QUERYGATE_TOKEN), or --user NAME --password-env VAR');
  }
  const admin = (flags.get('--admin') ?? io.env.QUERYGATE_ADMIN_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const doFetch = io.fetch ?? fetch;
  const json = switches.has('--json');

  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; data: unknown }> => {
    const response = await doFetch(`${admin}/api/approvals${path}`, {
      method,
      headers: { authorization, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let data: unknown = text;
    try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
    return { status: response.status, data };
  };

  try {
    let result: { status: number; data: unknown };
    if (command === 'list') {
      const params = new URLSearchParams({ status: flags.get('--status') ?? 'pending' });
      if (flags.has('--limit')) params.set('limit', flags.get('--limit')!);
      result = await call('GET', `?${params.toString()}`);
    } else if (command === 'show') {
      result = await call('GET', `/${encodeURIComponent(id!)}`);
    } else if (command === 'approve') {
      const reason = flags.get('--reason');
      const window = flags.get('--window');
      result = await call('POST', `/${encodeURIComponent(id!)}/approve`, { ...(reason ? { reason } : {}), ...(window ? { window } : {}) });
    } else {
      result = await call('POST', `/${encodeURIComponent(id!)}/deny`, { reason: flags.get('--reason') });
    }
    if (result.status >= 400) {
      const problem = result.data as { error?: string; message?: string } | string | null;
      const message = typeof problem === 'object' && problem !== null ? `${problem.message ?? 'request failed'}${problem.error ? ` (${problem.error})` : ''}` : String(problem ?? '');
      io.stderr.write(`querygate approvals: HTTP ${result.status}: ${message}\n`);
      return 1;
    }
    if (json) {
      io.stdout.write(JSON.stringify(result.data, null, 2) + '\n');
    } else if (command === 'list') {
      io.stdout.write(formatList((result.data as { requests: ApprovalRequest[] }).requests));
    } else {
      io.stdout.write(formatRequest(result.data as ApprovalRequest));
    }
    return 0;
  } catch (err) {
    io.stderr.write(`querygate approvals: cannot reach ${admin}: ${(err as Error).message}\n`);
    return 1;
  }
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function formatList(requests: readonly ApprovalRequest[]): string {
  if (requests.length === 0) return 'no approval requests\n';
  const rows = requests.map((r) => [r.id, r.status, r.requester.subject, `${r.listener}/${r.database}`, r.rule, r.createdAt, oneLine(r.statement.text, 60)]);
  const header = ['ID', 'STATUS', 'REQUESTER', 'WHERE', 'RULE', 'CREATED', 'STATEMENT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ') + '\n';
  return line(header) + rows.map(line).join('');
}

export function formatRequest(r: ApprovalRequest): string {
  const lines = [
    `request    ${r.id}`,
    `status     ${r.status}`,
    `requester  ${r.requester.subject}${r.requester.groups.length > 0 ? ` (${r.requester.groups.join(', ')})` : ''}`,
    `where      ${r.protocol} listener ${r.listener}, database ${r.database}`,
    `rule       ${r.rule}${r.message ? ` — ${r.message}` : ''}`,
    `mode       ${r.mode}`,
    `created    ${r.createdAt}`,
    `expires    ${r.expiresAt}`,
    `approvals  ${r.votes.length} of ${r.required}${r.votes.length > 0 ? `: ${r.votes.map((v) => v.approver).join(', ')}` : ''}`,
  ];
  if (r.decidedAt) lines.push(`decided    ${r.decidedAt} by ${(r.decidedBy ?? []).join(', ')}${r.reason ? ` — ${r.reason}` : ''}`);
  if (r.grant) lines.push(`grant      ${r.grant.scope} until ${r.grant.until}${r.grant.consumedAt ? ` (used ${r.grant.consumedAt})` : ''}`);
  if (r.statement.parameters) lines.push(`parameters ${JSON.stringify(r.statement.parameters)}`);
  lines.push('statement', ...r.statement.text.split('\n').map((l) => `  ${l}`));
  return lines.join('\n') + '\n';
}
