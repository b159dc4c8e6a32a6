import type { AuditEventInput, Identity, Session, Statement, StatementContext } from '@querygate/core';
import { silentLogger } from '@querygate/core';
import { ApprovalCoordinator, type CoordinatorOptions } from '../src/ApprovalCoordinator';
import type { ApprovalRequest } from '../src/ApprovalRequest';
import type { ApprovalStore } from '../src/store/ApprovalStore';
import { MemoryApprovalStore } from '../src/store/MemoryApprovalStore';
import type { Approver } from '../src/transitions';

export function statement(text = 'DROP TABLE orders', fingerprint = 'fp-drop-orders'): Statement {
  return {
    text, kind: 'ddl', command: 'drop_table', fingerprint, normalized: text,
    reads: [], writes: [{ name: 'orders' }], functions: [], risks: new Set(), lineage: { outputs: [], complete: true },
  };
}

export function identity(subject = 'carol', groups: string[] = ['dev']): Identity {
  return { subject, groups, method: 'local', claims: {} };
}

export function session(overrides: Partial<Session> = {}): Session {
  return {
    id: `s-${Math.random().toString(36).slice(2, 10)}`,
    identity: identity(),
    protocol: 'postgres',
    listener: 'pg',
    database: 'app',
    clientAddress: '127.0.0.1:50000',
    startedAt: new Date(),
    clientParameters: {},
    tls: false,
    state: new Map(),
    ...overrides,
  };
}

export function context(s: Session = session(), controller = new AbortController()): StatementContext & { controller: AbortController } {
  return { session: s, via: 'simple', signal: controller.signal, controller };
}

export const dba1: Approver = { subject: 'alice', groups: ['dba'], method: 'basic' };
export const dba2: Approver = { subject: 'bob', groups: ['dba'], method: 'jwt' };
export const outsider: Approver = { subject: 'mallory', groups: ['dev'], method: 'basic' };

export const baseOptions: CoordinatorOptions = {
  mode: 'hold',
  timeoutMs: 60_000,
  maxWindowMs: 86_400_000,
  retryGrantMs: 3_600_000,
  sweepIntervalMs: 60_000,
  approvers: { groups: ['dba'], count: 1 },
};

export interface Harness {
  readonly coordinator: ApprovalCoordinator;
  readonly store: ApprovalStore;
  readonly audit: AuditEventInput[];
}

export async function coordinator(options: Partial<CoordinatorOptions> = {}, store: ApprovalStore = new MemoryApprovalStore(), gatewayId = 'gw-a'): Promise<Harness> {
  const audit: AuditEventInput[] = [];
  const c = new ApprovalCoordinator({ ...baseOptions, ...options }, {
    store, gatewayId, adminUrl: 'http://admin.example:8080', logger: silentLogger, audit: (e) => audit.push(e),
  });
  await store.open();
  await c.start();
  return { coordinator: c, store, audit };
}

export function pendingRequest(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const now = Date.now();
  return {
    id: `ar-${Math.random().toString(36).slice(2, 14).padEnd(12, 'x')}`,
    version: 1,
    gateway: 'gw-a',
    mode: 'hold',
    status: 'pending',
    sessionId: 's-1',
    requester: { subject: 'carol', groups: ['dev'], method: 'local' },
    listener: 'pg',
    protocol: 'postgres',
    database: 'app',
    statement: { text: 'DROP TABLE orders', fingerprint: 'fp-drop-orders', kind: 'ddl', command: 'drop_table' },
    rule: 'ddl-needs-approval',
    message: 'DDL needs approval',
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 60_000).toISOString(),
    required: 1,
    votes: [],
    ...overrides,
  };
}

export function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 5_000, stepMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = async (): Promise<void> => {
      try {
        const value = await fn();
        if (value !== undefined && value !== false) return resolve(value as T);
      } catch (err) {
        if (Date.now() > deadline) return reject(err);
      }
      if (Date.now() > deadline) return reject(new Error('waitFor timed out'));
      setTimeout(() => { void tick(); }, stepMs);
    };
    void tick();
  });
}
