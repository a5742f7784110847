import { eventually, type SpawnedProcess } from '@ibstack/test-kit';

import { type Harness, intent, publishIntent, startHarness, startProcess } from './harness';

async function metric(child: SpawnedProcess, name: string): Promise<number> {
  const started = await child.waitForLine('execution started');
  const url = (JSON.parse(started) as { http: string }).http;
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

async function epochs(harness: Harness): Promise<number[]> {
  const rows = await harness.database.db.selectFrom('orders').select('leader_epoch').orderBy('id').execute();
  return rows.map((row) => Number(row.leader_epoch));
}

async function allFilled(harness: Harness, count: number) {
  await eventually(
    async () => {
      const rows = await harness.database.db.selectFrom('orders').select(['status', 'error_text']).execute();
      expect(rows.map((row) => `${row.status}${row.error_text ? `: ${row.error_text}` : ''}`)).toEqual(
        Array(count).fill('filled'),
      );
    },
    { timeoutMs: 30_000 },
  );
}

describe('execution lease (active/standby)', () => {
  let harness: Harness;
  const children: SpawnedProcess[] = [];

  afterAll(async () => {
    await Promise.all(children.map((child) => child.kill('SIGKILL')));
    await harness?.close();
  });

  it('lets only the holder send; a standby takes over after the TTL, reconciles, trades; the old holder back sends nothing', async () => {
    harness = await startHarness({}, { LEASE_TTL_MS: '1500', LOG_LEVEL: 'info' });
    let side: 'BUY' | 'SELL' = 'SELL';
    const next = () => intent({ sleeve: 'lease', side: (side = side === 'BUY' ? 'SELL' : 'BUY') });
    const first = await startProcess(harness, { INSTANCE_ID: 'first' });
    children.push(first);
    await eventually(async () => expect(await metric(first, 'execution_lease_holder')).toBe(1), {
      timeoutMs: 20_000,
    });
    const second = await startProcess(harness, { INSTANCE_ID: 'second' });
    children.push(second);

    for (let i = 0; i < 3; i++) await publishIntent(harness.bus, next());
    await allFilled(harness, 3);
    expect(await metric(second, 'execution_lease_holder')).toBe(0);
    expect(await metric(second, 'ib_orders_submitted_total')).toBe(0);
    expect(await metric(first, 'ib_orders_submitted_total')).toBe(3);
    const [firstEpoch] = await epochs(harness);

    await first.kill('SIGKILL');
    await eventually(async () => expect(await metric(second, 'execution_lease_holder')).toBe(1), {
      timeoutMs: 15_000,
    });
    const takeover = await eventually(async () => {
      const run = await harness.database.db
        .selectFrom('reconciliation_runs')
        .selectAll()
        .where('trigger', '=', 'lease_acquired')
        .executeTakeFirst();
      expect(run).toBeDefined();
      return run!;
    });
    expect(takeover.ok).toBe(true);

    for (let i = 0; i < 3; i++) await publishIntent(harness.bus, next());
    await allFilled(harness, 6);
    const all = await epochs(harness);
    expect(all.slice(3).every((epoch) => epoch > firstEpoch!)).toBe(true);

    const returning = await startProcess(harness, { INSTANCE_ID: 'first' });
    children.push(returning);
    for (let i = 0; i < 2; i++) await publishIntent(harness.bus, next());
    await allFilled(harness, 8);
    expect(await metric(returning, 'execution_lease_holder')).toBe(0);
    expect(await metric(returning, 'ib_orders_submitted_total')).toBe(0);
    expect(await metric(second, 'ib_orders_submitted_total')).toBe(5);

    const refs = harness.sim.account.orders().map((order) => order.orderRef);
    expect(new Set(refs).size).toBe(8);
    const fence = await harness.database.db.selectFrom('leader_fence').selectAll().executeTakeFirstOrThrow();
    expect(Number(fence.epoch)).toBe((await epochs(harness)).at(-1));
  }, 120_000);
});
