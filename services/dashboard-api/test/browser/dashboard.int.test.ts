/**
 * The page in a real browser: Debian's Chromium driven by playwright-core (no downloaded browser),
 * against the real stack. Log in, watch the price move, place and cancel an order, halt and resume, and
 * the same page on a phone. Screenshots of each step go to test-output/ for a person to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { topics } from '@ibstack/contracts';
import { makeTick } from '@ibstack/test-kit';
import { type Browser, chromium, type Page } from 'playwright-core';

import { PASSWORD, type Stack, startStack, untilTrading } from '../integration/harness';

const OUTPUT = join(__dirname, '..', '..', 'test-output');
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  stack = await startStack();
  await stack.addUser('pat', 'operator');
  // Two hours of 1-minute history, as the ingestor would have stored it.
  const now = Math.floor(Date.now() / 60_000) * 60_000;
  let price = 1.48;
  const rows = [];
  for (let minute = 120; minute >= 1; minute--) {
    const open = price;
    price += Math.sin(minute / 7) * 0.0004 + (minute % 3) * 0.00005 - 0.00005;
    const close = price;
    rows.push({
      instrument: 'EURCAD',
      timeframe: '1m',
      ts: new Date(now - minute * 60_000),
      open: open.toFixed(5),
      high: (Math.max(open, close) + 0.0002).toFixed(5),
      low: (Math.min(open, close) - 0.0002).toFixed(5),
      close: close.toFixed(5),
      volume: '0',
      source: 'test',
    });
  }
  await stack.database.db.insertInto('bars').values(rows).execute();
  await untilTrading(stack);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
}

async function logIn(page: Page): Promise<void> {
  await page.goto(stack.url);
  await page.locator('#login-form').waitFor();
  await page.fill('input[name=username]', 'pat');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.locator('#app').waitFor();
}

describe('the dashboard page', () => {
  it('logs in, shows a moving price, places and cancels an order, halts and resumes', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(stack.url);
    await page.locator('#login-form').waitFor();
    await page.fill('input[name=username]', 'pat');
    await page.fill('input[name=password]', 'wrong-password');
    await page.click('#login-form button[type=submit]');
    await page.locator('#login-error', { hasText: 'wrong user name or password' }).waitFor();
    await shot(page, '01-login-refused');

    await logIn(page);
    await page.locator('#chart canvas').first().waitFor();
    await page.locator('[data-testid=trading-state]', { hasText: 'RUNNING' }).waitFor();
    await page.locator('[data-testid=gateway]', { hasText: 'connected' }).waitFor();
    // The socket is subscribed once the first snapshot has arrived.
    await page.locator('#account dd').first().waitFor();

    // Live quotes move the price on the page.
    for (const bid of ['1.49100', '1.49300']) {
      await stack.testBus.bus.publish(
        topics.tick,
        makeTick({ ts: new Date().toISOString(), bid, ask: (Number(bid) + 0.0001).toFixed(5) }),
      );
      await page
        .locator('[data-testid=last-price]', { hasText: (Number(bid) + 0.00005).toFixed(5) })
        .waitFor();
    }
    await shot(page, '02-dashboard');

    // A limit order far below the market rests at the broker; cancel it from the page.
    await page.selectOption('select[name=orderType]', 'LMT');
    await page.fill('input[name=limitPrice]', '1.0001');
    await page.fill('input[name=quantity]', '20000');
    await page.click('#order-form button[type=submit]');
    await page.locator('#order-result', { hasText: /order \d+: (submitted|pending)/ }).waitFor();
    const cancel = page.locator('#orders button[data-order-id]');
    await cancel.first().waitFor();
    await shot(page, '03-open-order');
    await cancel.first().click();
    await page.locator('#orders td.empty').waitFor({ timeout: 15_000 });
    const cancelled = await stack.database.db
      .selectFrom('orders')
      .select('status')
      .where('sleeve', '=', 'operator')
      .execute();
    expect(cancelled.map((row) => row.status)).toEqual(['cancelled']);

    // Halt behind a confirmation: Cancel does nothing, Confirm with a reason halts.
    await page.click('#halt');
    await page.locator('#confirm[open]').waitFor();
    await page.click('#confirm button[value=cancel]');
    await page.click('#halt');
    await page.fill('#confirm-reason', 'checking the browser');
    await shot(page, '04-halt-confirmation');
    await page.click('#confirm-ok');
    await page.locator('[data-testid=trading-state]', { hasText: 'HALTED' }).waitFor();
    await page.locator('#state-reason', { hasText: 'checking the browser — pat' }).waitFor();
    await shot(page, '05-halted');
    await page.click('#resume');
    await page.fill('#confirm-reason', 'done');
    await page.click('#confirm-ok');
    await page.locator('[data-testid=trading-state]', { hasText: 'RUNNING' }).waitFor();
    const audit = await stack.database.db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('actor', '=', 'pat')
      .execute();
    expect(audit.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['login', 'manual_order', 'cancel_order', 'halt', 'resume']),
    );
    expect(audit.filter((entry) => entry.action === 'halt')).toHaveLength(1);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('fits a phone screen', async () => {
    const page = await browser.newPage({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    await logIn(page);
    await page.locator('#chart canvas').first().waitFor();
    await page.locator('#account dd').first().waitFor();
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, '06-phone');
    await page.close();
  }, 60_000);
});
