import { EventEmitter } from 'node:events';

import type { Bus } from '@ibstack/bus';
import { createRegistry } from '@ibstack/observability';
import { silentLogger } from '@ibstack/test-kit';

import type { Broker } from '../src/ports';
import type { ExecutionStore } from '../src/adapters/pg-store';
import { AccountRecorder } from '../src/account-recorder';
import { executionMetrics } from '../src/metrics';

/** The broker's account stream and a store that keeps rows in memory: the recorder's two seams. */
function setUp(options: { reaskAfterMs?: number } = {}) {
  let now = Date.parse('2026-11-24T15:00:00.000Z');
  const broker = Object.assign(new EventEmitter(), {
    subscriptions: [] as string[],
    subscribeAccountUpdates(account: string) {
      this.subscriptions.push(account);
    },
  });
  const rows: Array<{ ts: Date; netLiquidation: string }> = [];
  const store = {
    account: {
      accountHistory: () => Promise.resolve({ dayOpening: null, highWaterMark: null }),
      recordAccountSnapshot: (row: { ts: Date; netLiquidation: string }) => {
        rows.push(row);
        return Promise.resolve();
      },
    },
  };
  const bus = { publish: () => Promise.resolve() };
  const recorder = new AccountRecorder({
    broker: broker as unknown as Broker,
    store: store as unknown as ExecutionStore,
    bus: bus as unknown as Bus,
    metrics: executionMetrics(createRegistry('execution', { defaultMetrics: false })),
    log: silentLogger(),
    intervalMs: 60_000,
    ...options,
    now: () => now,
  });
  const download = (netLiquidation: string) => {
    broker.emit('accountValue', {
      key: 'NetLiquidation',
      value: netLiquidation,
      currency: 'USD',
      account: 'DU1',
    });
    broker.emit('accountTime', { time: '10:00' });
    broker.emit('accountDownloadEnd', { account: 'DU1' });
  };
  return {
    broker,
    rows,
    recorder,
    download,
    advance: (ms: number) => (now += ms),
    at: (ms: number) => new Date(Date.parse('2026-11-24T15:00:00.000Z') + ms).toISOString(),
  };
}

describe('account recorder', () => {
  it('stamps a snapshot with when the broker sent the values and never re-stamps it', async () => {
    const { recorder, rows, download, advance, at } = setUp();
    recorder.start('DU1');
    download('1000000');
    advance(5_000);
    expect(await recorder.recordNow()).toMatchObject({ netLiquidation: '1000000', ts: at(0) });
    // Nothing new from the broker: no new row, and the snapshot keeps its time.
    advance(60_000);
    expect(await recorder.recordNow()).toMatchObject({ ts: at(0) });
    expect(rows).toHaveLength(1);
    // The broker's next batch is a new snapshot at its own time.
    download('990000');
    advance(1_000);
    expect(await recorder.recordNow()).toMatchObject({ netLiquidation: '990000', ts: at(65_000) });
    expect(rows.map((row) => row.ts.toISOString())).toEqual([at(0), at(65_000)]);
    await recorder.stop();
  });

  it('records nothing from a new subscription before its full download, and awaits it at start', async () => {
    const { recorder, rows, broker, download, advance, at } = setUp();
    recorder.start('DU1');
    expect(await recorder.awaitFresh(10)).toBeNull();
    // Part of the download is not yet the account's value.
    broker.emit('accountValue', { key: 'NetLiquidation', value: '1000000', currency: 'USD', account: 'DU1' });
    expect(await recorder.recordNow()).toBeNull();
    const fresh = recorder.awaitFresh(5_000);
    advance(100);
    download('1000000');
    expect(await fresh).toMatchObject({ netLiquidation: '1000000', ts: at(100) });
    // A new subscription (a reconnect) starts over: the old snapshot is not fresh for it.
    advance(1_000);
    recorder.start('DU1');
    expect(broker.subscriptions).toEqual(['DU1', 'DU1']);
    expect(await recorder.awaitFresh(10)).toBeNull();
    expect(recorder.latestSnapshot()).toMatchObject({ ts: at(100) });
    expect(rows).toHaveLength(1);
    await recorder.stop();
  });

  // IB sends P&L and cash per currency and once more as BASE, the account's total in its base currency.
  it.each([
    ['BASE last', ['CAD', 'EUR', 'USD', 'BASE']],
    ['BASE first', ['BASE', 'CAD', 'EUR', 'USD']],
    ['BASE between', ['CAD', 'BASE', 'EUR', 'USD']],
  ])('takes the BASE figure of a key IB sends per currency (%s)', async (_order, currencies) => {
    const { recorder, broker, download } = setUp();
    recorder.start('DU1');
    const perCurrency: Record<string, Record<string, string>> = {
      RealizedPnL: { CAD: '150', EUR: '0', USD: '0', BASE: '108' },
      UnrealizedPnL: { CAD: '-70', EUR: '0', USD: '0', BASE: '-50.4' },
      TotalCashBalance: { CAD: '-29600', EUR: '20000', USD: '1000000', BASE: '1000287.5' },
    };
    for (const [key, byCurrency] of Object.entries(perCurrency))
      for (const currency of currencies)
        broker.emit('accountValue', { key, value: byCurrency[currency], currency, account: 'DU1' });
    download('1000287.5');
    expect(await recorder.recordNow()).toMatchObject({
      currency: 'USD',
      netLiquidation: '1000287.5',
      cash: '1000287.5',
      realizedPnl: '108',
      unrealizedPnl: '-50.4',
    });
    await recorder.stop();
  });

  it('asks the broker again when it has sent nothing for a while, once per period', async () => {
    const { recorder, broker, download, advance } = setUp({ reaskAfterMs: 150_000 });
    recorder.start('DU1');
    download('1000000');
    advance(150_000);
    recorder.reaskIfQuiet();
    expect(broker.subscriptions).toEqual(['DU1']);
    advance(1);
    recorder.reaskIfQuiet();
    recorder.reaskIfQuiet();
    expect(broker.subscriptions).toEqual(['DU1', 'DU1']);
    // It answers: quiet no more.
    download('1000000');
    advance(100_000);
    recorder.reaskIfQuiet();
    expect(broker.subscriptions).toEqual(['DU1', 'DU1']);
    await recorder.stop();
  });
});
