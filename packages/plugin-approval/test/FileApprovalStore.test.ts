import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@querygate/core';
import { FileApprovalStore } from '../src/store/FileApprovalStore';
import { castApproval, castDenial } from '../src/transitions';
import { dba1, pendingRequest } from './helpers';

describe('FileApprovalStore', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'qg-approvals-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const open = async (retentionMs = 86_400_000): Promise<FileApprovalStore> => {
    const store = new FileApprovalStore({ path: join(dir, 'sub', 'approvals.jsonl'), retentionMs, logger: silentLogger });
    await store.open();
    return store;
  };

  it('keeps requests and decisions across a re-open', async () => {
    const a = await open();
    const one = pendingRequest();
    const two = pendingRequest({ createdAt: new Date(Date.now() + 1000).toISOString() });
    await a.create(one);
    await a.create(two);
    const decided = await a.update(one.id, (r) => castApproval(r, dba1, { reason: 'fine' }, Date.now(), { retryGrantMs: 1 }));
    expect(decided.ok).toBe(true);
    await a.close();

    const b = await open();
    expect(await b.get(one.id)).toMatchObject({ status: 'approved', version: 2, reason: 'fine' });
    expect(await b.get(two.id)).toMatchObject({ status: 'pending' });
    expect((await b.list({ status: ['pending'] })).map((r) => r.id)).toEqual([two.id]);
    expect((await b.list({})).map((r) => r.id)).toEqual([two.id, one.id]);
    await b.close();
  });

  it('refuses a second decision (409) and an unknown id (404)', async () => {
    const s = await open();
    const r = pendingRequest();
    await s.create(r);
    expect((await s.update(r.id, (c) => castDenial(c, dba1, 'no', Date.now()))).ok).toBe(true);
    expect(await s.update(r.id, (c) => castDenial(c, dba1, 'again', Date.now()))).toMatchObject({ ok: false, refusal: { status: 409 } });
    expect(await s.update('ar-nope', (c) => c)).toMatchObject({ ok: false, refusal: { status: 404 } });
    await s.close();
  });

  it('skips a line torn by a crash and compacts the log', async () => {
    const s = await open();
    const r = pendingRequest();
    await s.create(r);
    await s.close();
    const path = join(dir, 'sub', 'approvals.jsonl');
    appendFileSync(path, '{"v":1,"request":{"id":"ar-torn');
    const again = await open();
    expect(await again.get(r.id)).toMatchObject({ status: 'pending' });
    await again.close();
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('drops decided requests past retention when compacting', async () => {
    const s = await open();
    const old = pendingRequest({ createdAt: '2020-01-01T00:00:00.000Z', expiresAt: '2020-01-01T00:15:00.000Z' });
    await s.create(old);
    await s.update(old.id, (c) => ({ ...c, version: 2, status: 'expired', decidedAt: '2020-01-01T00:15:00.000Z' }));
    await s.close();
    const again = await open(60_000);
    expect(await again.get(old.id)).toBeUndefined();
    await again.close();
  });

  it('tells subscribers about each change', async () => {
    const s = await open();
    const heard: string[] = [];
    s.subscribe((r) => heard.push(`${r.id}:${r.status}`));
    const r = pendingRequest();
    await s.create(r);
    await s.update(r.id, (c) => castDenial(c, dba1, 'no', Date.now()));
    expect(heard).toEqual([`${r.id}:pending`, `${r.id}:denied`]);
    await s.close();
  });
});
