/**
 * The page in a real browser: Debian's Chromium driven by playwright-core (no downloaded browser),
 * against the real stack. Log in, watch the price move, place and cancel an order, halt and resume, and
 * the same page on a phone. Then, against a stack without execution whose account snapshots, fills, bars
 * and reconciliation runs the test records itself (row first, then the message, as the services do), every
 * card that should move does, and what the page missed while cut off is there once it reconnects.
 * Screenshots of each step go to test-output/ (git-ignored) for a person to look at.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { type AccountSnapshot, type Bar, type Fill, topics } from '@ibstack/contracts';
import { accountSnapshotToRow } from '@ibstack/db';
import { eventually } from '@ibstack/test-kit';
import { type Browser, chromium, type Page } from 'playwright-core';

import { call, PASSWORD, type Stack, startStack, untilTrading } from '../integration/harness';

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
  // The real stack: gateway-sim, the ingestor (history backfilled from the sim, live quotes and bars from
  // it), execution, Postgres, NATS. Nothing on the page is fed by the test.
  stack = await startStack({ ingestor: true });
  await stack.addUser('pat', 'operator');
  await untilTrading(stack);
  await eventually(
    async () => {
      const bars = await stack.database.db.selectFrom('bars').select('ts').limit(1).execute();
      expect(bars).toHaveLength(1);
    },
    { timeoutMs: 30_000 },
  );
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage: true });
}

/**
 * Records where the page draws text on its canvases (lightweight-charts draws its axis labels there), so a
 * test can tell whether a label fits its canvas. Only the last frame's labels of each canvas are kept: a
 * chart repaints whole, and one still laying itself out may draw a label that the next frame moves.
 * Installed before the page's own script runs; it wraps the browser's fillText, which it then calls.
 */
const RECORD_CANVAS_TEXT = `
  window.canvasText = new WeakMap();
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, x, y, maxWidth) {
    const frame = document.timeline.currentTime;
    let drawn = window.canvasText.get(this.canvas);
    if (!drawn || drawn.frame !== frame) window.canvasText.set(this.canvas, (drawn = { frame, labels: [] }));
    const width = this.measureText(text).width;
    const start = this.textAlign === 'center' ? x - width / 2 : ['right', 'end'].includes(this.textAlign) ? x - width : x;
    // In the canvas's own pixels, whatever scale the chart drew with.
    const scale = this.getTransform();
    drawn.labels.push({ text, left: scale.a * start + scale.e, right: scale.a * (start + width) + scale.e });
    return fillText.call(this, text, x, y, maxWidth);
  };
`;

interface AxisLabels {
  width: number;
  labels: Array<{ text: string; left: number; right: number }>;
}

/** The labels of a chart's time axis in its last frame, and the axis canvas's width (both in its pixels). */
async function timeAxisLabels(page: Page, chart: string): Promise<AxisLabels> {
  // The time axis is the widest canvas of the chart's last table row (the price axes' stubs are beside it).
  return page.evaluate<AxisLabels>(`(() => {
    const row = [...document.querySelectorAll('${chart} table tr')].at(-1);
    const canvas = [...row.querySelectorAll('canvas')].sort((a, b) => b.width - a.width)[0];
    return { width: canvas.width, labels: window.canvasText.get(canvas)?.labels ?? [] };
  })()`);
}

/**
 * A chart's time axis shows labels, and every one of them whole, inside the axis; with `rightOnly`, none
 * sticks out past its right end (the price chart's history scrolls off to the left, labels with it).
 */
async function expectWholeTimeLabels(page: Page, chart: string, rightOnly = false): Promise<void> {
  await eventually(async () => {
    const axis = await timeAxisLabels(page, chart);
    expect(axis.labels.length).toBeGreaterThan(0);
    const outside = axis.labels
      .filter((label) => (label.left < 0 && !rightOnly) || label.right > axis.width)
      .map((label) => ({ ...label, axisWidth: axis.width }));
    expect(outside).toEqual([]);
  });
}

async function logIn(page: Page, on: Stack = stack): Promise<void> {
  await page.goto(on.url);
  await page.locator('#login-form').waitFor();
  await page.fill('input[name=username]', 'pat');
  await page.fill('input[name=password]', PASSWORD);
  await page.click('#login-form button[type=submit]');
  await page.locator('#app').waitFor();
}

describe('the dashboard page', () => {
  it('logs in, shows a moving price, places and cancels an order, halts and resumes', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    await page.addInitScript(RECORD_CANVAS_TEXT);
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

    // The simulated market's quotes move the price on the page: two changes seen, each a number.
    const price = page.locator('[data-testid=last-price]');
    const seen: string[] = [];
    await eventually(
      async () => {
        const text = (await price.textContent())?.trim() ?? '';
        if (/^\d+\.\d+$/.test(text) && seen.at(-1) !== text) seen.push(text);
        expect(seen.length).toBeGreaterThanOrEqual(3);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    // The chart draws bars: the backfilled history from the simulator.
    const history = await call(stack.url, 'GET', '/api/bars?instrument=EURCAD', {
      headers: { cookie: (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ') },
    });
    expect((history.body as unknown[]).length).toBeGreaterThan(10);
    // The equity curve's time labels are drawn whole, the newest point's at the right end included.
    await page.locator('#equity canvas').first().waitFor();
    await expectWholeTimeLabels(page, '#equity');
    await expectWholeTimeLabels(page, '#chart', true);
    await shot(page, '02-dashboard');
    await page.locator('#equity').screenshot({ path: join(OUTPUT, '02b-equity.png') });

    // A limit order far below the market rests at the broker; cancel it from the page.
    await page.selectOption('select[name=orderType]', 'LMT');
    await page.fill('input[name=limitPrice]', '1.0001');
    await page.fill('input[name=quantity]', '20000');
    await page.click('#order-form button[type=submit]');
    // The notice under the form follows the order past the POST's answer (often "pending": execution has
    // recorded it, the broker has not acknowledged it yet) to its state at the broker, then to its end.
    await page.locator('#order-result', { hasText: /^order \d+: submitted$/ }).waitFor();
    const cancel = page.locator('#orders button[data-order-id]');
    await cancel.first().waitFor();
    await shot(page, '03-open-order');
    await cancel.first().click();
    await page.locator('#orders td.empty').waitFor({ timeout: 15_000 });
    await page.locator('#order-result', { hasText: /^order \d+: cancelled$/ }).waitFor();
    await shot(page, '03b-order-cancelled');
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

  it('fits a phone: no table scrolls sideways, and an order is placed and cancelled by touch', async () => {
    const page = await browser.newPage({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    await page.addInitScript(RECORD_CANVAS_TEXT);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(stack.url);
    await page.locator('#login-form').waitFor();
    await shot(page, '06-phone-login');
    await logIn(page);
    await page.locator('#chart canvas').first().waitFor();
    await page.locator('#account dd').first().waitFor();

    await page.selectOption('select[name=orderType]', 'LMT');
    await page.fill('input[name=limitPrice]', '1.0002');
    await page.fill('input[name=quantity]', '10000');
    await page.tap('#order-form button[type=submit]');
    const cancel = page.locator('#orders button[data-order-id]');
    await cancel.first().waitFor();

    const width = 390;
    expect(
      await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
    ).toBeLessThanOrEqual(0);
    // Every card shows all it has without sideways scrolling, the Cancel button included.
    const scrolling = await page.evaluate(
      "[...document.querySelectorAll('.card')].filter((card) => card.scrollWidth > card.clientWidth + 1).map((card) => card.querySelector('h2')?.textContent)",
    );
    expect(scrolling).toEqual([]);
    const box = (await cancel.first().boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(width);
    // Big enough for a finger.
    expect(box.height).toBeGreaterThanOrEqual(28);
    await shot(page, '07-phone-open-order');

    await cancel.first().tap();
    await page.locator('#orders td.empty').waitFor({ timeout: 15_000 });
    await page.locator('#order-result', { hasText: /^order \d+: cancelled$/ }).waitFor();
    await expectWholeTimeLabels(page, '#equity');
    await expectWholeTimeLabels(page, '#chart', true);
    await shot(page, '08-phone');
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});

/**
 * Test instrumentation, installed before the page's script: every WebSocket the page opens is kept in
 * window.testSockets (so a test can cut the connection as a network would), and while window.blockSockets
 * is true a new one goes to a closed port instead (the server is out of reach); each change of the equity
 * chart's data attributes is recorded in window.equitySeen as "points:last".
 */
const INSTRUMENT_PAGE = `
  window.testSockets = [];
  window.blockSockets = false;
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(url, ...rest) {
      super(window.blockSockets ? 'ws://127.0.0.1:9/' : url, ...rest);
      window.testSockets.push(this);
    }
  };
  window.equitySeen = [];
  document.addEventListener('DOMContentLoaded', () => {
    const chart = document.getElementById('equity');
    new MutationObserver(() => window.equitySeen.push(chart.dataset.points + ':' + chart.dataset.last)).observe(
      chart,
      { attributes: true, attributeFilter: ['data-points', 'data-last'] },
    );
  });
`;

/** Cuts the page's current WebSocket; the page reconnects on its own. */
async function cutSocket(page: Page): Promise<void> {
  await page.evaluate('window.testSockets.at(-1).close()');
}

const HALF_HOUR = 30 * 60_000;

describe('the dashboard page, live', () => {
  // A stack of its own without execution, so the only account snapshots are the ones the test records.
  let quiet: Stack;
  beforeAll(async () => {
    quiet = await startStack({ trading: false });
    await quiet.addUser('pat', 'operator');
  }, 60_000);
  afterAll(async () => {
    await quiet?.close();
  });

  /** As execution does it: the row first, then the message (unless `publish` is false: a missed one). */
  async function recordSnapshot(
    ts: number,
    netLiquidation: string,
    options: { account?: string; publish?: boolean } = {},
  ) {
    const snapshot: AccountSnapshot = {
      v: 1,
      account: options.account ?? 'DU1234567',
      currency: 'USD',
      netLiquidation,
      cash: netLiquidation,
      realizedPnl: '0',
      unrealizedPnl: '0',
      dailyPnl: '0',
      dailyReturnPct: '0',
      highWaterMark: netLiquidation,
      drawdownPct: '0',
      ts: new Date(ts).toISOString(),
    };
    await quiet.database.db
      .insertInto('account_snapshots')
      .values(accountSnapshotToRow({ ...snapshot, ts: new Date(ts), raw: {} }))
      .execute();
    if (options.publish !== false) await quiet.testBus.bus.publish(topics.accountSnapshot, snapshot);
  }

  it('moves the equity curve with the account snapshots, and fills a gap after a reconnect', async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    await page.addInitScript(INSTRUMENT_PAGE);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const chart = page.locator('#equity');
    const showing = async (points: number, last: string) => {
      await page.locator(`#equity[data-points="${points}"][data-last="${last}"]`).waitFor();
    };
    // The curve's half-hour buckets start on the clock's half-hours: six hours back from the current one.
    const start = Math.floor(Date.now() / HALF_HOUR) * HALF_HOUR - 12 * HALF_HOUR;
    const at = (halfHours: number, minutes = 5) => start + halfHours * HALF_HOUR + minutes * 60_000;
    await recordSnapshot(at(0), '1000000');
    await recordSnapshot(at(1), '1000500');

    let curveReads = 0;
    page.on('request', (request) => {
      if (request.url().includes('/api/pnl')) curveReads++;
    });
    await logIn(page, quiet);
    await showing(2, '1000500');
    // Subscribed: the curve has been read twice, once with the page and again once the socket subscribed.
    await page.locator('[data-testid=live]', { hasText: /^live$/ }).waitFor();

    // Each snapshot in a later half-hour adds a point; the curve is not read again for it.
    await recordSnapshot(at(2), '1001000');
    await showing(3, '1001000');
    await recordSnapshot(at(3), '1002000');
    await showing(4, '1002000');
    // Later in the same half-hour, and then the same instant again: the last point's value changes.
    await recordSnapshot(at(3, 20), '1002500');
    await showing(4, '1002500');
    await recordSnapshot(at(3, 20), '1002600');
    await showing(4, '1002600');
    // An older snapshot and another account's change nothing: the next one in order is drawn after them.
    await recordSnapshot(at(3, 10), '999999');
    await recordSnapshot(at(4), '777777', { account: 'DU7654321' });
    await recordSnapshot(at(4), '1003000');
    await showing(5, '1003000');
    const seen = await page.evaluate<string[]>('window.equitySeen');
    expect(seen.filter((entry) => /:(999999|777777)$/.test(entry))).toEqual([]);
    expect(curveReads).toBe(2);
    await page.locator('#equity canvas').first().waitFor();
    await chart.screenshot({ path: join(OUTPUT, '09-equity-live.png') });

    // Two snapshots while the page is cut off: they reach Postgres, not the page. Reconnected, it has them.
    await recordSnapshot(at(5), '1004000', { publish: false });
    await recordSnapshot(at(6), '1003500', { publish: false });
    await cutSocket(page);
    await showing(7, '1003500');
    // And it is live again.
    await recordSnapshot(at(7), '1005000');
    await showing(8, '1005000');
    await chart.screenshot({ path: join(OUTPUT, '10-equity-after-reconnect.png') });
    await shot(page, '11-dashboard-live');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it('keeps positions, trades, sleeves and reconciliation current, and says when it is cut off', async () => {
    const { db } = quiet.database;
    const bus = quiet.testBus.bus;
    const now = Date.now();
    const minute = (ago: number) => new Date(Math.floor(now / 60_000) * 60_000 - ago * 60_000);
    await db
      .insertInto('positions')
      .values({ account: 'DU1234567', instrument: 'EURCAD', quantity: '10000', average_cost: '1.45' })
      .execute();
    await db
      .insertInto('bars')
      .values({
        instrument: 'EURCAD',
        timeframe: '1m',
        ts: minute(3),
        open: '1.46',
        high: '1.46',
        low: '1.46',
        close: '1.46',
        volume: '0',
        source: 'test',
      })
      .execute();
    const order = await db
      .insertInto('orders')
      .values({
        intent_id: null,
        broker_order_id: 501,
        client_id: 1,
        account: 'DU1234567',
        sleeve: 'carry',
        instrument: 'EURCAD',
        side: 'BUY',
        quantity: '10000',
        order_type: 'MKT',
        time_in_force: 'DAY',
        status: 'filled',
        filled_quantity: '10000',
        remaining_quantity: '0',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    /** An execution of that order as execution stores it; published as a fill unless `publish` is false. */
    const recordFill = async (execId: string, price: string, realizedPnl: string, publish = true) => {
      const executedAt = new Date();
      await db
        .insertInto('executions')
        .values({
          exec_id: execId,
          order_id: order.id,
          broker_order_id: 501,
          perm_id: 9001,
          intent_id: null,
          account: 'DU1234567',
          instrument: 'EURCAD',
          side: 'BUY',
          quantity: '5000',
          price,
          executed_at: executedAt,
          commission: '1.5',
          commission_currency: 'USD',
          realized_pnl: realizedPnl,
        })
        .execute();
      const fill: Fill = {
        v: 1,
        execId,
        brokerOrderId: 501,
        permId: 9001,
        sleeve: 'carry',
        account: 'DU1234567',
        instrument: 'EURCAD',
        side: 'BUY',
        quantity: '5000',
        price,
        commission: '1.5',
        commissionCurrency: 'USD',
        realizedPnl,
        ts: executedAt.toISOString(),
        receivedAt: executedAt.toISOString(),
      };
      if (publish) await bus.publish(topics.fill, fill);
    };

    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    await page.addInitScript(INSTRUMENT_PAGE);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await logIn(page, quiet);
    const live = page.locator('[data-testid=live]');
    await live.filter({ hasText: /^live$/ }).waitFor();
    const positionRow = page.locator('#positions tbody tr', { hasText: 'EURCAD' });
    await positionRow.filter({ hasText: '1.46000' }).filter({ hasText: '100.00' }).waitFor();

    // A new 1-minute bar on the bus revalues the position at once (before the ingestor's batch stores it).
    const bar: Bar = {
      v: 1,
      instrument: 'EURCAD',
      timeframe: '1m',
      ts: minute(1).toISOString(),
      open: '1.47',
      high: '1.47',
      low: '1.47',
      close: '1.47',
      volume: '0',
      source: 'live',
      receivedAt: new Date().toISOString(),
    };
    await bus.publish(topics.bar, bar);
    await positionRow.filter({ hasText: '1.47000' }).filter({ hasText: '200.00' }).waitFor();

    // A fill: the trade appears, and its sleeve's realized P&L moves (no order event comes with it).
    await recordFill('0001.01', '1.4711', '12.34');
    await page.locator('#trades tbody tr', { hasText: '1.4711' }).waitFor();
    await page.locator('#sleeves tbody tr', { hasText: 'carry' }).filter({ hasText: '12.34' }).waitFor();

    // Cut off: the badge says so, and stays so while the server is out of reach.
    await page.evaluate('window.blockSockets = true');
    await cutSocket(page);
    await live.filter({ hasText: 'reconnecting' }).waitFor();
    await shot(page, '12-reconnecting');
    // Meanwhile a fill and a reconciliation run reach Postgres, not the page.
    await recordFill('0001.02', '1.4722', '20', false);
    await db
      .insertInto('reconciliation_runs')
      .values({
        run_id: 'run-while-cut-off',
        trigger: 'periodic',
        ok: false,
        mismatches: JSON.stringify([{ kind: 'position_quantity', instrument: 'EURCAD' }]),
        positions_checked: 1,
        open_orders_checked: 0,
        executions_checked: 2,
        started_at: new Date(),
        finished_at: new Date(),
        error: null,
      })
      .execute();
    await expect(live.textContent()).resolves.toBe('reconnecting');
    // Back in reach: live again, with what it missed.
    await page.evaluate('window.blockSockets = false');
    await live.filter({ hasText: /^live$/ }).waitFor({ timeout: 20_000 });
    await page.locator('#trades tbody tr', { hasText: '1.4722' }).waitFor();
    await page.locator('#reconciliation', { hasText: '1 mismatches · periodic' }).waitFor();
    await page.locator('#sleeves tbody tr', { hasText: 'carry' }).filter({ hasText: '32.34' }).waitFor();
    await shot(page, '13-live-again');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
