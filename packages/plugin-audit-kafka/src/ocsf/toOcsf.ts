import type { AuditEvent, StatementKind } from '@querygate/core';

/** The OCSF schema version the mapping targets (classes 6005 and 3002 as defined in 1.1.0). */
export const OCSF_VERSION = '1.1.0';

export const OcsfClass = {
  Authentication: 3002,
  DatastoreActivity: 6005,
} as const;

const CATEGORY = {
  [OcsfClass.Authentication]: { uid: 3, name: 'Identity & Access Management', className: 'Authentication' },
  [OcsfClass.DatastoreActivity]: { uid: 6, name: 'Application Activity', className: 'Datastore Activity' },
} as const;

/** Datastore Activity (6005) activity_id values. */
export const DatastoreActivity = {
  Unknown: 0, Read: 1, Update: 2, Connect: 3, Query: 4, Write: 5, Create: 6, Delete: 7, Other: 99,
} as const;

/** Authentication (3002) activity_id values used here. */
export const AuthenticationActivity = { Logon: 1, Logoff: 2, AuthenticationTicket: 3 } as const;

export const Severity = { Informational: 1, Low: 2, Medium: 3, High: 4 } as const;
export const Status = { Unknown: 0, Success: 1, Failure: 2, Other: 99 } as const;

const SEVERITY_NAMES: Readonly<Record<number, string>> = { 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High' };
const STATUS_NAMES: Readonly<Record<number, string>> = { 0: 'Unknown', 1: 'Success', 2: 'Failure', 99: 'Other' };
const DATASTORE_ACTIVITY_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(DatastoreActivity).map(([name, id]) => [id, name]),
);

export interface OcsfEndpoint {
  readonly ip?: string;
  readonly port?: number;
  readonly name?: string;
}

export interface OcsfUser {
  readonly name: string;
  readonly uid?: string;
  readonly groups?: readonly { readonly name: string }[];
}

/** The OCSF record this plugin writes: the base event attributes plus what classes 6005 / 3002 define. */
export interface OcsfEvent {
  readonly activity_id: number;
  readonly activity_name: string;
  readonly category_uid: number;
  readonly category_name: string;
  readonly class_uid: number;
  readonly class_name: string;
  readonly type_uid: number;
  readonly type_name: string;
  readonly severity_id: number;
  readonly severity: string;
  /** Epoch milliseconds. */
  readonly time: number;
  readonly message: string;
  readonly status_id: number;
  readonly status: string;
  readonly status_code?: string;
  readonly status_detail?: string;
  readonly metadata: {
    readonly version: string;
    readonly uid: string;
    readonly correlation_uid: string;
    readonly sequence: number;
    readonly original_time: string;
    readonly product: { readonly name: 'querygate'; readonly vendor_name: string; readonly feature?: { readonly name: string } };
  };
  readonly actor: { readonly user?: OcsfUser; readonly session: { readonly uid: string } };
  /** 3002: the account that logged on (or tried to). */
  readonly user?: OcsfUser;
  readonly auth_protocol_id?: number;
  readonly auth_protocol?: string;
  readonly src_endpoint?: OcsfEndpoint;
  readonly dst_endpoint?: { readonly svc_name: string };
  /** 6005: the datastore type (1 = Database). */
  readonly type_id?: number;
  readonly type?: string;
  readonly database?: { readonly name: string; readonly type_id: number; readonly type: string };
  readonly query_info?: { readonly query_string: string; readonly uid?: string; readonly name: string };
  readonly duration?: number;
  readonly disposition_id?: number;
  readonly disposition?: string;
  readonly unmapped: Readonly<Record<string, unknown>>;
}

/** Statement kinds (and DDL commands) to Datastore Activity ids. */
function statementActivity(event: AuditEvent): number {
  const statement = event.statement;
  if (statement === undefined) return DatastoreActivity.Other;
  const byKind: Partial<Record<StatementKind, number>> = {
    select: DatastoreActivity.Query,
    insert: DatastoreActivity.Write,
    update: DatastoreActivity.Update,
    merge: DatastoreActivity.Update,
    delete: DatastoreActivity.Delete,
  };
  const direct = byKind[statement.kind];
  if (direct !== undefined) return direct;
  if (statement.kind === 'ddl') {
    if (statement.command.startsWith('create')) return DatastoreActivity.Create;
    if (statement.command.startsWith('drop') || statement.command === 'truncate') return DatastoreActivity.Delete;
    if (statement.command.startsWith('alter') || statement.command.startsWith('rename')) return DatastoreActivity.Update;
  }
  if (statement.kind === 'copy') {
    if (/_to(_|$)/.test(statement.command) || statement.command === 'copy_to') return DatastoreActivity.Read;
    if (/_from(_|$)/.test(statement.command)) return DatastoreActivity.Write;
  }
  return DatastoreActivity.Other;
}

/** `1.2.3.4:5678`, `[::1]:5678`, or anything else (a socket path) as a name. */
export function parseEndpoint(address: string | undefined): OcsfEndpoint | undefined {
  if (address === undefined || address === '') return undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(address);
  if (v6) return { ip: v6[1]!, port: Number(v6[2]) };
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d+)$/.exec(address);
  if (v4) return { ip: v4[1]!, port: Number(v4[2]) };
  if (/^[0-9A-Fa-f:.]+$/.test(address) && address.includes(':')) return { ip: address };
  if (/^\d{1,3}(?:\.\d{1,3}){3}$/.test(address)) return { ip: address };
  return { name: address };
}

function titleCase(event: string): string {
  return event.split('.').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
}

function describeEvent(event: AuditEvent): string {
  const who = event.identity?.subject ?? event.claimedUser ?? 'unknown user';
  const what = event.statement ? ` ${event.statement.command}${event.statement.objects.length > 0 ? ` on ${event.statement.objects.join(', ')}` : ''}` : '';
  const rule = event.rule !== undefined ? ` (rule ${event.rule})` : '';
  const detail = event.error ? `: ${event.error.code} ${event.error.message}` : '';
  const extra = event.event === 'statement.completed' && event.rows !== undefined ? `, ${event.rows} rows in ${event.durationMs ?? '?'} ms` : '';
  const masked = event.masking ? ` ${event.masking.columns.join(', ')}` : '';
  const approval = event.approval?.decision !== undefined ? ` ${event.approval.decision}${event.approval.approver !== undefined ? ` by ${event.approval.approver}` : ''}` : '';
  return `${event.event} ${who}${what}${masked}${approval}${rule}${extra}${detail}`;
}

/** Outcome of the event: status id, and for a policy decision the disposition. */
function outcome(event: AuditEvent): { status: number; disposition?: { id: number; name: string } } {
  switch (event.event) {
    case 'session.started':
    case 'credential.issued':
    case 'statement.allowed':
    case 'approval.requested':
    case 'masking.applied':
      return event.event === 'statement.allowed'
        ? { status: Status.Success, disposition: { id: 1, name: 'Allowed' } }
        : { status: Status.Success };
    case 'session.ended':
    case 'statement.completed':
      return { status: event.error ? Status.Failure : Status.Success };
    case 'auth.failed':
    case 'session.refused':
      return { status: Status.Failure };
    case 'statement.denied':
      return { status: Status.Failure, disposition: { id: 2, name: 'Blocked' } };
    case 'statement.held':
      return { status: Status.Other };
    case 'approval.decided':
      if (event.approval?.decision === 'approved') return { status: Status.Success };
      if (event.approval?.decision === undefined) return { status: Status.Unknown };
      return { status: Status.Failure };
  }
}

const HIGH_RISKS = new Set(['privilegeChange', 'fileAccess']);

function severity(event: AuditEvent, status: number): number {
  const risky = event.statement?.risks.some((r) => HIGH_RISKS.has(r)) ?? false;
  if (event.event === 'statement.denied') return risky ? Severity.High : Severity.Medium;
  if (event.event === 'auth.failed' || event.event === 'session.refused') return Severity.Medium;
  if (event.event === 'statement.held' || event.event === 'approval.requested') return Severity.Low;
  if (risky) return Severity.Low;
  return status === Status.Failure ? Severity.Low : Severity.Informational;
}

function user(event: AuditEvent): OcsfUser | undefined {
  if (event.identity !== undefined) {
    return {
      name: event.identity.subject,
      uid: event.identity.subject,
      groups: event.identity.groups.map((name) => ({ name })),
    };
  }
  if (event.claimedUser !== undefined) return { name: event.claimedUser };
  return undefined;
}

/** Fields carried under `unmapped`: everything that has no OCSF home in the chosen class. */
function unmapped(event: AuditEvent): Record<string, unknown> {
  const rest: Record<string, unknown> = {
    event: event.event,
    schema_version: event.schemaVersion,
    gateway: event.gateway,
    seq: event.seq,
  };
  if (event.listener !== undefined) rest.listener = event.listener;
  if (event.protocol !== undefined) rest.protocol = event.protocol;
  if (event.identity !== undefined) {
    rest.auth_method = event.identity.method;
    if (event.identity.issuer !== undefined) rest.issuer = event.identity.issuer;
  }
  if (event.claimedUser !== undefined) rest.claimed_user = event.claimedUser;
  if (event.statement !== undefined) {
    rest.statement_kind = event.statement.kind;
    rest.statement_command = event.statement.command;
    rest.statement_objects = event.statement.objects;
    rest.statement_risks = event.statement.risks;
  }
  if (event.verdict !== undefined) rest.verdict = event.verdict;
  if (event.rule !== undefined) rest.rule = event.rule;
  if (event.rows !== undefined) rest.rows = event.rows;
  if (event.masking !== undefined) rest.masking = { columns: event.masking.columns, values: event.masking.values };
  const truncated = (event as { truncated?: unknown }).truncated;
  if (truncated !== undefined) rest.truncated = truncated;
  if (event.approval !== undefined) {
    rest.approval = Object.fromEntries(Object.entries(event.approval).filter(([, v]) => v !== undefined));
  }
  return rest;
}

/**
 * Maps a querygate audit event to OCSF 1.x: Authentication (3002) for `session.started`,
 * `auth.failed` and `credential.issued`, Datastore Activity (6005) for every other event. Pure; see docs/audit.md for the table.
 */
export function toOcsf(event: AuditEvent, vendorName = 'querygate'): OcsfEvent {
  const isAuth = event.event === 'session.started' || event.event === 'auth.failed' || event.event === 'credential.issued';
  const classUid = isAuth ? OcsfClass.Authentication : OcsfClass.DatastoreActivity;
  const category = CATEGORY[classUid];

  let activityId: number;
  let activityName: string;
  if (event.event === 'credential.issued') {
    // A short-lived credential minted from an OIDC token: OCSF's closest activity is a ticket grant.
    activityId = AuthenticationActivity.AuthenticationTicket;
    activityName = 'Authentication Ticket';
  } else if (isAuth) {
    activityId = AuthenticationActivity.Logon;
    activityName = 'Logon';
  } else if (event.event === 'session.refused') {
    activityId = DatastoreActivity.Connect;
    activityName = 'Connect';
  } else if (event.event.startsWith('statement.')) {
    activityId = statementActivity(event);
    activityName = activityId === DatastoreActivity.Other ? (event.statement?.command ?? 'Other') : DATASTORE_ACTIVITY_NAMES[activityId]!;
  } else {
    // session.ended, approval.*, masking.applied: no 6005 activity fits; OCSF says Other + a name.
    activityId = DatastoreActivity.Other;
    activityName = titleCase(event.event);
  }

  const { status, disposition } = outcome(event);
  const severityId = severity(event, status);
  const time = Date.parse(event.time);
  const u = user(event);
  const src = parseEndpoint(event.clientAddress);

  const record: Record<string, unknown> = {
    activity_id: activityId,
    activity_name: activityName,
    category_uid: category.uid,
    category_name: category.name,
    class_uid: classUid,
    class_name: category.className,
    type_uid: classUid * 100 + activityId,
    type_name: `${category.className}: ${activityName}`,
    severity_id: severityId,
    severity: SEVERITY_NAMES[severityId]!,
    time: Number.isFinite(time) ? time : 0,
    message: describeEvent(event),
    status_id: status,
    status: event.event === 'statement.held' ? 'Held' : STATUS_NAMES[status]!,
    metadata: {
      version: OCSF_VERSION,
      uid: event.id,
      correlation_uid: event.sessionId,
      sequence: event.seq,
      original_time: event.time,
      product: { name: 'querygate', vendor_name: vendorName, feature: { name: 'audit' } },
    },
    actor: { ...(u !== undefined ? { user: u } : {}), session: { uid: event.sessionId } },
  };
  if (event.error !== undefined) {
    record.status_code = event.error.code;
    record.status_detail = event.error.message;
  }
  if (src !== undefined) record.src_endpoint = src;
  if (event.listener !== undefined) record.dst_endpoint = { svc_name: event.listener };
  if (isAuth) {
    if (u !== undefined) record.user = u;
    record.auth_protocol_id = 99;
    record.auth_protocol = event.identity?.method
      ?? (event.event === 'credential.issued' ? 'oidc token exchange' : event.protocol !== undefined ? `${event.protocol} password` : 'Other');
  } else {
    record.type_id = 1;
    record.type = 'Database';
    if (event.database !== undefined) record.database = { name: event.database, type_id: 1, type: 'Relational' };
    if (event.statement !== undefined) {
      record.query_info = {
        query_string: event.statement.text,
        name: event.statement.command,
        ...(event.fingerprint !== undefined ? { uid: event.fingerprint } : {}),
      };
    }
  }
  if (event.durationMs !== undefined) record.duration = event.durationMs;
  if (disposition !== undefined) {
    record.disposition_id = disposition.id;
    record.disposition = disposition.name;
  }
  const rest = unmapped(event);
  if (isAuth && event.database !== undefined) rest.database = event.database;
  record.unmapped = rest;
  return record as unknown as OcsfEvent;
}
