import type { Decided, GatewaySession, Identity } from '@querygate/core';
import type { TestGateway } from './fixture';
import { statement } from './helpers';

/** Opens a session the way a protocol adapter would, and judges statements through the real pipeline. */
export async function openSession(gw: TestGateway, identity: Identity, database = 'app'): Promise<GatewaySession> {
  const runtime = gw.gateway.listenerRuntime(gw.gateway.config.listeners[0]!);
  return runtime.openSession({ id: runtime.newSessionId(), identity, database, clientAddress: '127.0.0.1:40000', clientParameters: { user: identity.subject }, tls: false });
}

export function run(gs: GatewaySession, text = 'DROP TABLE orders', fingerprint = 'fp-drop-orders'): { notices: string[]; verdict: Promise<Decided> } {
  const notices: string[] = [];
  const verdict = Promise.resolve(gs.judge([statement(text, fingerprint)], { via: 'simple', onNotice: (n) => notices.push(n) }));
  return { notices, verdict };
}

export function requestIdOf(notice: string | undefined): string {
  const m = /request (ar-[a-z0-9]{12})/.exec(notice ?? '');
  if (!m) throw new Error(`no request id in ${notice}`);
  return m[1]!;
}
