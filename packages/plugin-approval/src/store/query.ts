import type { ApprovalRequest } from '../ApprovalRequest';
import type { ApprovalQuery } from './ApprovalStore';

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

/** The in-memory form of an ApprovalQuery (the PostgreSQL store has its SQL twin). */
export function applyQuery(requests: Iterable<ApprovalRequest>, query: ApprovalQuery): ApprovalRequest[] {
  const out: ApprovalRequest[] = [];
  for (const r of requests) {
    if (query.status && query.status.length > 0 && !query.status.includes(r.status)) continue;
    if (query.subject !== undefined && r.requester.subject !== query.subject) continue;
    if (query.fingerprint !== undefined && r.statement.fingerprint !== query.fingerprint) continue;
    if (query.gateway !== undefined && r.gateway !== query.gateway) continue;
    out.push(r);
  }
  out.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1));
  return out.slice(0, Math.min(query.limit ?? DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT));
}
