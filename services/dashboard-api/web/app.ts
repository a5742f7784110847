/**
 * The dashboard page: plain DOM and TradingView's lightweight-charts, bundled by esbuild into public/
 * (no CDN: the stack may run on hosts without internet). It talks only to dashboard-api: REST for
 * snapshots and actions, the WebSocket for everything live. The session is the httpOnly cookie the
 * login sets; the page never sees the token.
 */
import {
  CandlestickSeries,
  createChart,
  type IChartApi,
  type ISeriesApi,
  LineSeries,
  type UTCTimestamp,
} from 'lightweight-charts';

type Json = Record<string, unknown>;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const state: {
  role: string;
  instrument: string;
  chart?: IChartApi;
  candles?: ISeriesApi<'Candlestick'>;
  equityChart?: IChartApi;
  equity?: ISeriesApi<'Line'>;
  socket?: WebSocket;
} = {
  role: 'viewer',
  instrument: 'EURCAD',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function api<T = Json>(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed = text
    ? (JSON.parse(text) as T & { error?: { message: string } })
    : ({} as T & { error?: { message: string } });
  if (!response.ok) {
    if (response.status === 401 && path !== '/api/auth/login') showLogin();
    throw new HttpError(response.status, parsed.error?.message ?? `HTTP ${response.status}`);
  }
  return parsed;
}

/** A field of an API answer as text (numbers and strings as they are, anything else empty). */
const text = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? `${value}`
      : '';
const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000) as UTCTimestamp;
const fmt = (value: unknown, digits = 2) => {
  const number = Number(value);
  return Number.isFinite(number)
    ? number.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '–';
};
const signClass = (value: unknown) => (Number(value) > 0 ? 'up' : Number(value) < 0 ? 'down' : '');

/**
 * Fills a table. Columns listed in `secondary` are hidden on a phone (app.css), so the ones that matter,
 * and an open order's Cancel button, fit the screen without scrolling sideways.
 */
function table(
  element: HTMLTableElement,
  headers: string[],
  rows: Array<Array<string | Node>>,
  numeric: number[] = [],
  secondary: number[] = [],
): void {
  element.replaceChildren();
  const classOf = (index: number) =>
    [numeric.includes(index) ? 'num' : '', secondary.includes(index) ? 'secondary' : '']
      .filter(Boolean)
      .join(' ');
  const head = element.createTHead().insertRow();
  headers.forEach((text, index) => {
    const th = document.createElement('th');
    th.textContent = text;
    th.className = classOf(index);
    head.append(th);
  });
  const body = element.createTBody();
  if (rows.length === 0) {
    const cell = body.insertRow().insertCell();
    cell.colSpan = headers.length;
    cell.className = 'empty';
    cell.textContent = 'none';
    return;
  }
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((value, index) => {
      const td = tr.insertCell();
      td.className = classOf(index);
      if (typeof value === 'string') td.textContent = value;
      else td.append(value);
    });
  }
}

function showLogin(): void {
  state.socket?.close();
  $('app').hidden = true;
  $('login').hidden = false;
}

async function start(): Promise<void> {
  try {
    const me = await api<{ username: string; role: string }>('GET', '/api/auth/me');
    await enter(me);
  } catch {
    showLogin();
  }
}

async function enter(me: { username: string; role: string }): Promise<void> {
  state.role = me.role;
  $('login').hidden = true;
  $('app').hidden = false;
  $('user').textContent = `${me.username} (${me.role})`;
  for (const element of document.querySelectorAll<HTMLElement>('.operator-only'))
    element.hidden = me.role !== 'operator';
  setupCharts();
  await Promise.all([loadInstruments(), loadStatus()]);
  await Promise.all([
    loadBars(),
    // The curve follows the account the card shows.
    loadAccount().then(loadEquity),
    loadPositions(),
    loadOrders(),
    loadTrades(),
    loadSleeves(),
    loadReconciliation(),
  ]);
  connect();
}

function setupCharts(): void {
  if (state.chart) return;
  const options = {
    layout: { background: { color: '#171b21' }, textColor: '#8893a0' },
    grid: { vertLines: { color: '#20252d' }, horzLines: { color: '#20252d' } },
    // The right edge fixed (nothing lies after the newest bar): lightweight-charts then moves a time label
    // that would stick out past the end of the axis back inside; unfixed, the newest one was cut off.
    timeScale: { timeVisible: true, secondsVisible: false, fixRightEdge: true },
    autoSize: true,
  };
  state.chart = createChart($('chart'), options);
  state.candles = state.chart.addSeries(CandlestickSeries, {
    upColor: '#26a69a',
    downColor: '#ef5350',
    wickUpColor: '#26a69a',
    wickDownColor: '#ef5350',
    borderVisible: false,
    priceFormat: { type: 'price', precision: 5, minMove: 0.00001 },
  });
  // The left edge fixed too: the curve is fitted whole into the small card (loadEquity), not scrolled to its
  // last few dozen points, and the oldest point's label is moved inside as well.
  const equityChart = createChart($('equity'), {
    ...options,
    timeScale: { ...options.timeScale, fixLeftEdge: true, fixRightEdge: true },
    rightPriceScale: { borderVisible: false },
  });
  state.equityChart = equityChart;
  // Whole dollars: cents of a net liquidation are noise on a curve (and a flat one showed ±0.05 ticks).
  state.equity = equityChart.addSeries(LineSeries, {
    color: '#4c8dff',
    lineWidth: 2,
    priceFormat: { type: 'price', precision: 0, minMove: 1 },
  });
}

async function loadInstruments(): Promise<void> {
  const [sleeves, positions] = await Promise.all([
    api<Array<{ instruments: string[] }>>('GET', '/api/sleeves'),
    api<Array<{ instrument: string }>>('GET', '/api/positions'),
  ]);
  const names = [
    ...new Set([
      ...sleeves.flatMap((s) => s.instruments),
      ...positions.map((p) => p.instrument),
      state.instrument,
    ]),
  ].sort();
  const select = $<HTMLSelectElement>('instrument');
  select.replaceChildren(...names.map((name) => new Option(name, name, false, name === state.instrument)));
}

async function loadBars(): Promise<void> {
  const bars = await api<Array<{ ts: string; open: string; high: string; low: string; close: string }>>(
    'GET',
    `/api/bars?instrument=${state.instrument}&timeframe=1m&limit=720`,
  );
  state.candles?.setData(
    bars.map((bar) => ({
      time: seconds(bar.ts),
      open: +bar.open,
      high: +bar.high,
      low: +bar.low,
      close: +bar.close,
    })),
  );
  const last = bars.at(-1);
  if (last) $('last-price').textContent = last.close;
  state.chart?.timeScale().scrollToRealTime();
}

async function loadAccount(): Promise<void> {
  const [account] = await api<Json[]>('GET', '/api/account');
  if (account) equity.account ??= text(account.account);
  renderAccount(account);
}

function renderAccount(account: Json | undefined): void {
  const list = $('account');
  if (!account) {
    list.innerHTML = '<dt>no account snapshot yet</dt><dd></dd>';
    return;
  }
  const rows: Array<[string, unknown, boolean?]> = [
    ['Account', account.account],
    ['Net liquidation', `${fmt(account.netLiquidation)} ${text(account.currency)}`],
    ['Cash', fmt(account.cash)],
    ['Buying power', account.buyingPower == null ? '–' : fmt(account.buyingPower)],
    ['Daily P&L', fmt(account.dailyPnl), true],
    ['Drawdown', `${fmt(account.drawdownPct)} %`],
    ['High-water mark', fmt(account.highWaterMark)],
  ];
  list.replaceChildren(
    ...rows.flatMap(([label, value, signed]) => {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = text(value);
      if (signed) dd.className = signClass(account.dailyPnl);
      return [dt, dd];
    }),
  );
}

/**
 * The equity curve: the last EQUITY_DAYS in buckets of EQUITY_BUCKET_SECONDS (half-hours, aligned to the
 * clock, so a bucket is the same whenever the curve is read), one point per bucket as GET /api/pnl gives it
 * (the bucket's last snapshot), drawn at the bucket's start. Live `account` snapshots keep it current
 * without a refetch: a snapshot in the last point's bucket replaces its value (series.update on the same
 * time), one in a later bucket appends a point. A point per snapshot would not do: the chart spaces points
 * evenly whatever their times, so a day of snapshots every few seconds would squeeze the rest of the week
 * into a sliver. A snapshot older than the newest one drawn (out of order, or replayed) is ignored, and one
 * of the same time replaces its value: the curve's times only ever increase and lightweight-charts never
 * throws. Each time the socket has subscribed (after a reconnect, and the first time) the curve is read
 * again, which fills whatever the page missed meanwhile.
 * Only the account shown in the Account card is drawn (the first; with several, a curve mixing their
 * values would mean nothing).
 *
 * For tests and anyone inspecting the page, #equity carries `data-points` (how many points the series
 * holds) and `data-last` (the last point's value), updated with the series.
 */
const EQUITY_DAYS = 7;
const EQUITY_BUCKET_SECONDS = 1800;
const equity: {
  account?: string;
  /** The time (ms) of the newest snapshot drawn; -Infinity before the curve is read. */
  newest: number;
  loaded: boolean;
  /** Snapshots that arrived while the curve was being read: applied once it is drawn. */
  pending?: Json[];
} = { newest: -Infinity, loaded: false };

const equityBucket = (ms: number) =>
  (Math.floor(ms / 1000 / EQUITY_BUCKET_SECONDS) * EQUITY_BUCKET_SECONDS) as UTCTimestamp;

async function loadEquity(): Promise<void> {
  // Whole buckets, from EQUITY_DAYS ago to two buckets ahead (a server clock ahead of this one loses
  // nothing), asked for as one point per bucket: the server then bins by these same buckets.
  const current = equityBucket(Date.now());
  const buckets = (EQUITY_DAYS * 86_400) / EQUITY_BUCKET_SECONDS + 2;
  const from = new Date((current + 2 * EQUITY_BUCKET_SECONDS - buckets * EQUITY_BUCKET_SECONDS) * 1000);
  const to = new Date((current + 2 * EQUITY_BUCKET_SECONDS) * 1000);
  const pending: Json[] = [];
  equity.pending = pending;
  try {
    const account = equity.account ? `&account=${encodeURIComponent(equity.account)}` : '';
    const points = await api<Array<{ ts: string; netLiquidation: string }>>(
      'GET',
      `/api/pnl?points=${buckets}&from=${from.toISOString()}&to=${to.toISOString()}${account}`,
    );
    if (equity.pending !== pending) return; // a later read is under way and draws instead
    const data: Array<{ time: UTCTimestamp; value: number }> = [];
    for (const point of points) {
      const time = equityBucket(Date.parse(point.ts));
      // One point per bucket even if the server's buckets ever differ from these.
      if (data.at(-1)?.time === time) data.pop();
      data.push({ time, value: +point.netLiquidation });
    }
    state.equity?.setData(data);
    equity.newest = points.length > 0 ? Date.parse(points.at(-1)!.ts) : -Infinity;
    equity.loaded = true;
    state.equity?.priceScale().applyOptions({ autoScale: true });
    state.equityChart?.timeScale().fitContent();
    showEquity();
  } finally {
    if (equity.pending === pending) {
      equity.pending = undefined;
      for (const snapshot of pending) onAccountSnapshot(snapshot);
    }
  }
}

function onAccountSnapshot(snapshot: Json): void {
  if (equity.pending) {
    equity.pending.push(snapshot);
    return;
  }
  const account = text(snapshot.account);
  const at = Date.parse(text(snapshot.ts));
  const value = Number(snapshot.netLiquidation);
  if ((equity.account && account !== equity.account) || !Number.isFinite(at) || !Number.isFinite(value))
    return;
  if (at < equity.newest || !equity.loaded || !state.equity) return;
  equity.account = account;
  const time = equityBucket(at);
  const last = state.equity.data().at(-1)?.time as UTCTimestamp | undefined;
  if (last !== undefined && time < last) return;
  state.equity.update({ time, value });
  equity.newest = at;
  if (time !== last) state.equityChart?.timeScale().fitContent();
  showEquity();
}

function showEquity(): void {
  const data = state.equity?.data() ?? [];
  const element = $('equity');
  element.dataset.points = String(data.length);
  const last = data.at(-1);
  element.dataset.last = last && 'value' in last ? String(last.value) : '';
}

function renderPositions(positions: Json[]): void {
  table(
    $('positions'),
    ['Instrument', 'Quantity', 'Avg cost', 'Last', 'Unrealized', 'Realized'],
    positions.map((p) => {
      const unrealized = document.createElement('span');
      unrealized.textContent = p.unrealizedPnl == null ? '–' : fmt(p.unrealizedPnl);
      unrealized.className = signClass(p.unrealizedPnl);
      return [
        text(p.instrument),
        fmt(p.quantity, 0),
        fmt(p.averageCost, 5),
        p.lastPrice == null ? '–' : fmt(p.lastPrice, 5),
        unrealized,
        fmt(p.realizedPnl),
      ];
    }),
    [1, 2, 3, 4, 5],
    [2, 5],
  );
}

async function loadPositions(): Promise<void> {
  renderPositions(await api<Json[]>('GET', '/api/positions'));
}

async function loadOrders(): Promise<void> {
  const page = await api<{ items: Json[] }>('GET', '/api/orders?status=open&limit=50');
  table(
    $('orders'),
    ['Id', 'Sleeve', 'Instrument', 'Side', 'Qty', 'Type', 'Limit', 'Status', ''],
    page.items.map((order) => {
      const cancel = document.createElement('button');
      cancel.textContent = 'Cancel';
      cancel.dataset.orderId = text(order.id);
      cancel.hidden = state.role !== 'operator';
      cancel.addEventListener('click', () => {
        cancel.disabled = true;
        const id = Number(order.id);
        api('DELETE', `/api/orders/${id}`)
          .then(() => follow({ id, cancelling: true }, `order ${id}: cancel requested`))
          .catch((error: Error) => {
            cancel.disabled = false;
            $('order-result').textContent = error.message;
          });
      });
      return [
        text(order.id),
        text(order.sleeve ?? ''),
        text(order.instrument),
        text(order.side),
        fmt(order.quantity, 0),
        text(order.orderType),
        order.limitPrice == null ? '' : text(order.limitPrice),
        text(order.status),
        cancel,
      ];
    }),
    [4, 6],
    [1, 5, 7],
  );
}

/** The time alone for today's trades, date and time for older ones. */
function shortTime(iso: string): string {
  const at = new Date(iso);
  return at.toDateString() === new Date().toDateString() ? at.toLocaleTimeString() : at.toLocaleString();
}

async function loadTrades(): Promise<void> {
  const trades = await api<Json[]>('GET', '/api/trades?limit=15');
  table(
    $('trades'),
    ['Time', 'Sleeve', 'Instrument', 'Side', 'Qty', 'Price', 'Commission', 'Realized'],
    trades.map((t) => [
      shortTime(text(t.executedAt)),
      text(t.sleeve ?? ''),
      text(t.instrument),
      text(t.side),
      fmt(t.quantity, 0),
      text(t.price),
      t.commission == null ? '' : fmt(t.commission),
      t.realizedPnl == null ? '' : fmt(t.realizedPnl),
    ]),
    [4, 5, 6, 7],
    [1, 6],
  );
}

async function loadSleeves(): Promise<void> {
  const sleeves = await api<Json[]>('GET', '/api/sleeves');
  table(
    $('sleeves'),
    ['Sleeve', 'Open', 'Today', 'Realized'],
    sleeves.map((s) => [text(s.sleeve), text(s.openOrders), text(s.ordersToday), fmt(s.realizedPnl)]),
    [1, 2, 3],
  );
}

async function loadReconciliation(): Promise<void> {
  const [run] = await api<Json[]>('GET', '/api/reconciliations?limit=1');
  renderReconciliation(run);
}

function renderReconciliation(run: Json | undefined): void {
  const element = $('reconciliation');
  if (!run) {
    element.textContent = 'no run yet';
    return;
  }
  const mismatches = Array.isArray(run.mismatches) ? run.mismatches.length : 0;
  element.textContent = `${run.ok ? 'clean' : `${mismatches} mismatches`} · ${text(run.trigger)} · ${new Date(text(run.finishedAt)).toLocaleString()}`;
  element.className = run.ok ? 'up' : 'down';
}

function renderState(value: { state: string; reason: string; by: string; at: string }): void {
  const badge = $('state');
  badge.textContent = value.state;
  badge.className = `badge ${value.state === 'RUNNING' ? 'ok' : value.state === 'HALTED' ? 'bad' : 'warn'}`;
  $('state-reason').textContent =
    value.state === 'RUNNING' ? '' : `${value.reason} — ${value.by}, ${new Date(value.at).toLocaleString()}`;
  $<HTMLButtonElement>('halt').disabled = value.state === 'HALTED';
  $<HTMLButtonElement>('resume').disabled = value.state === 'RUNNING';
}

function renderGateway(status: { state: string; tradingMode?: string; lastHeartbeat?: string | null }): void {
  const badge = $('gateway');
  badge.textContent = `gateway ${status.state.replace(/_/g, ' ')}`;
  badge.className = `badge ${['connected', 'logged_in'].includes(status.state) ? 'ok' : 'bad'}`;
  if (status.lastHeartbeat) badge.title = `last heartbeat ${new Date(status.lastHeartbeat).toLocaleString()}`;
  if (status.tradingMode) {
    const mode = $('mode');
    mode.textContent = status.tradingMode.toUpperCase();
    mode.className = `badge ${status.tradingMode === 'live' ? 'bad' : 'ok'}`;
  }
}

async function loadStatus(): Promise<void> {
  const [trading] = await Promise.all([
    api<{ state: string; reason: string; by: string; at: string }>('GET', '/api/trading-state'),
    loadGateway(),
  ]);
  renderState(trading);
}

/** The gateway badge: GET /api/ibkr/status sums up the supervisor's health and every service's status. */
async function loadGateway(): Promise<void> {
  renderGateway(
    await api<{ state: string; tradingMode: string; lastHeartbeat: string | null }>(
      'GET',
      '/api/ibkr/status',
    ),
  );
}

/**
 * Whether this page is live: subscribed on its WebSocket ("live"), or cut off and trying again, when nothing
 * on it moves and every figure is as of the moment the connection was lost.
 */
function showLive(live: boolean): void {
  const badge = $('live');
  badge.textContent = live ? 'live' : 'reconnecting';
  badge.className = `badge ${live ? 'ok' : 'bad'}`;
  badge.title = live
    ? "this page's live connection"
    : `connection lost at ${new Date().toLocaleTimeString()}`;
}

let reconnectDelay = 1_000;
function connect(): void {
  const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  state.socket = socket;
  socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'authenticate', payload: {} })));
  socket.addEventListener('message', (message: MessageEvent<string>) => {
    const frame = JSON.parse(message.data) as { type: string; channel?: string; payload?: Json };
    if (frame.type === 'authenticated') {
      reconnectDelay = 1_000;
      socket.send(
        JSON.stringify({
          type: 'subscribe',
          payload: {
            channels: [
              `quotes:${state.instrument}`,
              `bars:${state.instrument}:1m`,
              'orders',
              'fills',
              'positions',
              'account',
              'trading_state',
              'gateway',
              'reconciliation',
            ],
          },
        }),
      );
      // Order events sent while the socket was down are not replayed: read the orders again.
      refreshOrdersSoon();
    } else if (frame.type === 'subscribed') {
      showLive(true);
      // Events are not replayed either: what the socket missed (down, or not yet subscribed when the page
      // first read everything) is read again now that every later event reaches it. Positions, account,
      // trading state and gateway need nothing: their channels send their current value on subscribing.
      for (const load of [loadEquity, loadBars, loadTrades, loadReconciliation])
        load().catch(() => undefined);
    } else if (frame.type === 'event' && frame.channel && frame.payload)
      onEvent(frame.channel, frame.payload);
  });
  socket.addEventListener('close', () => {
    if ($('app').hidden) return;
    showLive(false);
    setTimeout(connect, reconnectDelay);
    reconnectDelay = Math.min(reconnectDelay * 2, 30_000);
  });
}

/**
 * The order the operator last placed or cancelled here. The notice under the order form follows it until
 * it ends (filled, cancelled, rejected, inactive): the answer to the action is only its first state, so the
 * order is read again on each order event, and once right after the answer, as its events may have come
 * before the answer did.
 */
interface Followed {
  id?: number;
  intentId?: string;
  /** A cancel was asked for: said until the order has ended, so its state before that reads as an answer. */
  cancelling?: boolean;
}
let followed: Followed | undefined;
const ENDED = new Set(['filled', 'cancelled', 'rejected', 'inactive']);

function follow(target: Followed, notice: string): void {
  followed = target;
  $('order-result').textContent = notice;
  readFollowed().catch(() => undefined);
}

function orderNotice(order: Json): string {
  const status = text(order.status).replace(/_/g, ' ');
  const filled = Number(order.filledQuantity) > 0 && order.averageFillPrice != null;
  return [
    `order ${text(order.id)}: ${status}`,
    filled ? ` ${fmt(order.filledQuantity, 0)} @ ${text(order.averageFillPrice)}` : '',
    order.errorText ? ` (${text(order.errorText)})` : '',
  ].join('');
}

async function readFollowed(): Promise<void> {
  const target = followed;
  if (!target) return;
  const order =
    target.id !== undefined
      ? await api<Json>('GET', `/api/orders/${target.id}`)
      : (
          await api<{ items: Json[] }>(
            'GET',
            `/api/orders?intentId=${encodeURIComponent(target.intentId ?? '')}&limit=1`,
          )
        ).items[0];
  // Still waiting for execution to record it, or the operator has acted on another order since.
  if (!order || followed !== target) return;
  target.id = Number(order.id);
  const ended = ENDED.has(text(order.status));
  $('order-result').textContent =
    `${orderNotice(order)}${target.cancelling && !ended ? ', cancel requested' : ''}`;
  if (ended) followed = undefined;
}

let ordersTimer: number | undefined;
function refreshOrdersSoon(): void {
  clearTimeout(ordersTimer);
  ordersTimer = window.setTimeout(
    () => void Promise.all([loadOrders(), loadSleeves(), readFollowed().catch(() => undefined)]),
    200,
  );
}

function onEvent(channel: string, payload: Json): void {
  if (channel.startsWith('quotes:')) {
    const bid = Number(payload.bid);
    const ask = Number(payload.ask);
    const price = Number.isFinite(bid) && Number.isFinite(ask) ? (bid + ask) / 2 : Number(payload.last);
    if (!Number.isFinite(price)) return;
    $('last-price').textContent = price.toFixed(5);
    const bar = state.candles?.data().at(-1) as
      { time: UTCTimestamp; open: number; high: number; low: number; close: number } | undefined;
    if (bar)
      state.candles?.update({
        ...bar,
        high: Math.max(bar.high, price),
        low: Math.min(bar.low, price),
        close: price,
      });
  } else if (channel.startsWith('bars:')) {
    state.candles?.update({
      time: seconds(text(payload.ts)),
      open: +text(payload.open),
      high: +text(payload.high),
      low: +text(payload.low),
      close: +text(payload.close),
    });
  } else if (channel === 'orders') refreshOrdersSoon();
  // A fill is a trade, and moves its sleeve's realized P&L (a fill published again with its late
  // commission and realized P&L comes with no order event).
  else if (channel === 'fills') void Promise.all([loadTrades(), loadSleeves()]).catch(() => undefined);
  else if (channel === 'positions' && Array.isArray(payload)) renderPositions(payload as Json[]);
  else if (channel === 'account') {
    onAccountSnapshot(payload);
    // The live snapshot lacks buying power (IB's raw values stay in Postgres): read the whole row again.
    void loadAccount();
  } else if (channel === 'trading_state')
    renderState(payload as { state: string; reason: string; by: string; at: string });
  else if (channel === 'gateway') loadGateway().catch(() => undefined);
  else if (channel === 'reconciliation') renderReconciliation({ ...payload, finishedAt: payload.finishedAt });
}

function confirmAction(text: string): Promise<string | null> {
  const dialog = $<HTMLDialogElement>('confirm');
  $('confirm-text').textContent = text;
  const reason = $<HTMLInputElement>('confirm-reason');
  reason.value = '';
  dialog.showModal();
  return new Promise((resolve) =>
    dialog.addEventListener(
      'close',
      () => resolve(dialog.returnValue === 'ok' ? reason.value.trim() : null),
      { once: true },
    ),
  );
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  $('login-error').textContent = '';
  api<{ user: { username: string; role: string } }>('POST', '/api/auth/login', {
    username: form.get('username'),
    password: form.get('password'),
  })
    .then((answer) => enter(answer.user))
    .catch((error: Error) => ($('login-error').textContent = error.message));
});

$('logout').addEventListener('click', () => void api('POST', '/api/auth/logout').finally(showLogin));

for (const [id, action] of [
  ['halt', 'halt'],
  ['resume', 'resume'],
] as const)
  $(id).addEventListener('click', () => {
    void confirmAction(
      action === 'halt'
        ? 'Halt all trading? No order will be sent until someone resumes.'
        : 'Resume trading?',
    ).then((reason) => {
      if (reason)
        api('POST', `/api/trading/${action}`, { reason }).catch(
          (error: Error) => ($('state-reason').textContent = error.message),
        );
    });
  });

$('instrument').addEventListener('change', (event) => {
  state.instrument = (event.target as HTMLSelectElement).value;
  state.socket?.close();
  void loadBars();
});

let pendingKey: string | null = null;
$('order-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  const orderType = text(form.get('orderType'));
  const body = {
    instrument: state.instrument,
    side: form.get('side'),
    quantity: text(form.get('quantity')).trim(),
    orderType,
    ...(orderType === 'LMT' ? { limitPrice: text(form.get('limitPrice')).trim() } : {}),
  };
  // One key per order: a retry after a network error reuses it, so it can never become a second order.
  pendingKey ??= crypto.randomUUID();
  $('order-result').textContent = 'sending…';
  api<{ intentId: string; order: Json | null }>('POST', '/api/orders', body, {
    'idempotency-key': pendingKey,
  })
    .then((answer) => {
      pendingKey = null;
      if (answer.order) follow({ id: Number(answer.order.id) }, orderNotice(answer.order));
      else follow({ intentId: answer.intentId }, 'sent; waiting for execution');
      refreshOrdersSoon();
    })
    .catch((error: Error) => {
      if (error instanceof HttpError && error.status < 500) pendingKey = null;
      $('order-result').textContent = error.message;
    });
});

// Keeps the session while the page is open: a token lives 15 minutes, refreshed every 5.
setInterval(() => {
  if (!$('app').hidden) void api('POST', '/api/auth/refresh').catch(() => undefined);
}, 5 * 60_000);

void start();
