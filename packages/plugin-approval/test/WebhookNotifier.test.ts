import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '@querygate/core';
import { WebhookNotifier } from '../src/WebhookNotifier';
import { pendingRequest, waitFor } from './helpers';
import { baseOptions, context, statement } from './helpers';
import { ApprovalCoordinator } from '../src/ApprovalCoordinator';
import { MemoryApprovalStore } from '../src/store/MemoryApprovalStore';

interface Hit { readonly at: number; readonly body: any; readonly headers: IncomingMessage['headers'] }

async function hookServer(answers: number[], delayMs = 0): Promise<{ url: string; hits: Hit[]; server: Server }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      hits.push({ at: Date.now(), body: JSON.parse(body), headers: req.headers });
      setTimeout(() => { res.writeHead(answers.shift() ?? 200); res.end(); }, delayMs).unref();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, hits, server };
}

const close = (s: Server): Promise<void> => new Promise((r) => { s.closeAllConnections(); s.close(() => r()); });

describe('WebhookNotifier', () => {
  it('retries with exponential backoff until the hook answers 2xx', async () => {
    const hook = await hookServer([500, 503, 200]);
    const n = new WebhookNotifier([{ url: hook.url, format: 'json', headers: { 'x-token': 'abc' }, events: ['requested', 'decided'], attempts: 5, backoffMs: 50, timeoutMs: 1000 }], (id) => `http://admin/console/approvals#${id}`, silentLogger);
    const r = pendingRequest();
    n.notify('requested', r);
    await waitFor(() => hook.hits.length === 3 || undefined);
    expect(hook.hits[0]!.body).toEqual({ event: 'approval.requested', request: r, url: `http://admin/console/approvals#${r.id}` });
    expect(hook.hits[0]!.headers['x-token']).toBe('abc');
    expect(hook.hits[1]!.at - hook.hits[0]!.at).toBeGreaterThanOrEqual(45);
    expect(hook.hits[2]!.at - hook.hits[1]!.at).toBeGreaterThanOrEqual(95);
    await new Promise((res) => setTimeout(res, 150));
    expect(hook.hits).toHaveLength(3);
    await n.shutdown();
    await close(hook.server);
  });

  it('gives up after the attempt limit, and at once on a 4xx', async () => {
    const hook = await hookServer([500, 500, 500, 500, 404]);
    const n = new WebhookNotifier([{ url: hook.url, format: 'json', headers: {}, events: ['decided'], attempts: 2, backoffMs: 10, timeoutMs: 1000 }], () => undefined, silentLogger);
    n.notify('requested', pendingRequest());
    n.notify('decided', pendingRequest());
    await waitFor(() => hook.hits.length === 2 || undefined);
    await n.shutdown();
    expect(hook.hits).toHaveLength(2);
    await close(hook.server);
  });

  it('posts Slack-compatible { text, blocks }', async () => {
    const hook = await hookServer([]);
    const n = new WebhookNotifier([{ url: hook.url, format: 'slack', headers: {}, events: ['requested', 'decided'], attempts: 1, backoffMs: 10, timeoutMs: 1000 }], (id) => `http://admin/console/approvals#${id}`, silentLogger);
    const r = pendingRequest();
    n.notify('requested', r);
    await waitFor(() => hook.hits[0]);
    const body = hook.hits[0]!.body;
    expect(body.text).toBe(`Approval needed: carol wants to run a drop table on pg/app (rule ddl-needs-approval), request ${r.id}`);
    expect(body.blocks[1].text.text).toBe('```DROP TABLE orders```');
    expect(body.blocks[2].elements[0].url).toBe(`http://admin/console/approvals#${r.id}`);
    await n.shutdown();
    await close(hook.server);
  });

  it('never delays the statement path', async () => {
    const hook = await hookServer([], 2_000);
    const notifier = new WebhookNotifier([{ url: hook.url, format: 'json', headers: {}, events: ['requested'], attempts: 1, backoffMs: 10, timeoutMs: 5000 }], () => undefined, silentLogger);
    const store = new MemoryApprovalStore();
    const c = new ApprovalCoordinator({ ...baseOptions, mode: 'reject-and-retry' }, { store, gatewayId: 'gw-a', adminUrl: undefined, logger: silentLogger, audit: () => undefined, notifier });
    await c.start();
    const t0 = Date.now();
    const verdict = await c.request(statement(), context(), { rule: 'r', message: 'm' });
    expect(verdict.action).toBe('deny');
    expect(Date.now() - t0).toBeLessThan(500);
    await waitFor(() => hook.hits[0]);
    await notifier.shutdown(10);
    await c.shutdown();
    await close(hook.server);
  });
});
