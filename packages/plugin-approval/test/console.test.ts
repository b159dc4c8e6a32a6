import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { startTestGateway, type TestGateway } from './fixture';
import { identity, waitFor } from './helpers';
import { openSession, requestIdOf, run } from './session';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

// Debian's chromium (apt-get install -y chromium); skipped with a message where it is missing.
const describeBrowser = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) console.warn(`console.test.ts skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

describeBrowser('approvals console in headless Chromium', () => {
  let gw: TestGateway;
  let browser: Browser;
  beforeAll(async () => {
    gw = await startTestGateway();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('shows a pending request with its statement highlighted; a click approves it and the held statement runs', async () => {
    const gs = await openSession(gw, identity('carol', ['dev']));
    const held = run(gs, "DROP TABLE orders -- cleanup <img src=x onerror=alert(1)>", 'fp-console');
    await waitFor(() => held.notices[0]);
    const id = requestIdOf(held.notices[0]);

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => { errors.push(`dialog: ${d.message()}`); void d.dismiss(); });
    await page.goto(`${gw.adminUrl}/console/approvals#${id}`);
    await page.fill('#login-user', 'alice');
    await page.fill('#login-password', 'alice-pw');
    await page.click('#login-submit');
    await page.waitForSelector(`.queue-item[data-id="${id}"]`);
    await page.waitForSelector('#statement');
    expect(await page.textContent('#statement')).toBe('DROP TABLE orders -- cleanup <img src=x onerror=alert(1)>');
    expect(await page.$$eval('#statement .kw.danger', (els) => els.map((e) => e.textContent))).toEqual(['DROP']);
    expect(await page.$$eval('#statement .cmt', (els) => els.length)).toBe(1);
    expect(await page.$$('#statement img')).toHaveLength(0);
    expect(await page.textContent('#requester')).toContain('carol');
    expect(await page.textContent('#rule')).toContain('ddl-needs-approval');
    await page.waitForSelector('#live.on');
    await page.screenshot({ path: `${gw.dir}/console-pending.png`, fullPage: true });

    await page.fill('#reason', 'cleanup ticket 12');
    await page.click('#approve');
    await expect(held.verdict).resolves.toEqual({ action: 'allow' });
    await waitFor(async () => (await page.textContent('#status')) === 'approved' || undefined);
    expect(await page.textContent('#decision')).toContain('alice');
    if (process.env.QG_CONSOLE_SCREENSHOT) await page.screenshot({ path: process.env.QG_CONSOLE_SCREENSHOT, fullPage: true });

    // A new request arrives live over the event stream, without a reload.
    const next = run(gs, 'TRUNCATE TABLE sessions', 'fp-console-2');
    await waitFor(() => next.notices[0]);
    const nextId = requestIdOf(next.notices[0]);
    await page.waitForSelector(`.queue-item[data-id="${nextId}"]`, { timeout: 5_000 });
    await page.click(`.queue-item[data-id="${nextId}"]`);
    await waitFor(() => page.url().endsWith(`#${nextId}`) || undefined);
    await page.waitForSelector('#deny');
    await page.fill('#reason', 'not today');
    await page.click('#deny');
    const denied = await next.verdict;
    expect(denied).toMatchObject({ action: 'deny', error: { code: 'QG_APPROVAL_DENIED' } });
    expect(errors).toEqual([]);
    await page.close();
    await gs.end('client_closed');
  });

  it('asks for credentials again after a wrong password', async () => {
    const page = await browser.newPage();
    await page.goto(`${gw.adminUrl}/console/approvals`);
    await page.fill('#login-user', 'alice');
    await page.fill('#login-password', 'wrong');
    await page.click('#login-submit');
    await page.waitForSelector('#login-error.show');
    expect(await page.textContent('#login-error')).toContain('wrong user name or password');
    expect(await page.isHidden('#app')).toBe(true);
    await page.close();
  });
});
