import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { subjects } from '@ibstack/contracts';
import { eventually, spawnTs, type SpawnedProcess, testEnvironment } from '@ibstack/test-kit';

import { flatBars } from '../bars';
import { openWorld, sleevesFile, type World } from './world';

const MAIN = join(__dirname, '..', '..', 'src', 'main.ts');
const directory = mkdtempSync(join(tmpdir(), 'strategy-test-'));

function writeFile(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

// A fast crossover (1 over 2 bars) on a zigzag decides on every bar, so every bar yields an intent.
const file = sleevesFile([{ name: 'restart', strategy: 'ma-crossover', parameters: { fast: 1, slow: 2 } }]);
// Bars a little in the future, so none is too old to act on whenever the test runs.
const start = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 60_000).toISOString();
const bars = flatBars(
  Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? '1.5000' : '1.5100')),
  start,
);

async function progressOf(world: World): Promise<string | undefined> {
  const row = await world.db.db
    .selectFrom('strategy_progress')
    .select('last_bar_ts')
    .where('sleeve', '=', 'restart')
    .executeTakeFirst();
  return row?.last_bar_ts.toISOString();
}

describe('strategy process', () => {
  let killed: World;
  let reference: World;
  const children: SpawnedProcess[] = [];
  beforeAll(async () => {
    [killed, reference] = await Promise.all([openWorld(), openWorld()]);
  });
  afterAll(async () => {
    await Promise.all(children.map((child) => child.kill('SIGKILL')));
    await Promise.all([killed.close(), reference.close()]);
  });

  function spawnEngine(): SpawnedProcess {
    const child = spawnTs(MAIN, [], {
      DATABASE_URL: killed.db.url,
      NATS_URL: testEnvironment().natsUrl,
      BUS_NAMESPACE: killed.testBus.namespace,
      HTTP_PORT: '0',
      SLEEVES_FILE: writeFile('restart.json', file),
      // Longer than a restart takes, so JetStream's order after the kill is down to the engine's one bar in
      // flight, not to timing.
      BAR_ACK_WAIT_MS: '4000',
      LOG_LEVEL: 'info',
    });
    children.push(child);
    return child;
  }

  /** What the ingestor does with a bar: store it, then publish it. */
  async function ingest(world: World, slice: typeof bars): Promise<void> {
    await world.insertBars(slice);
    await world.publishBars(slice);
  }

  it('after a SIGKILL mid-stream, a restart neither repeats nor skips a bar and re-derives the same intents', async () => {
    const first = spawnEngine();
    await first.waitForLine('strategy service started');
    await ingest(killed, bars.slice(0, 30));
    await eventually(async () =>
      expect(Date.parse((await progressOf(killed)) ?? '0')).toBeGreaterThanOrEqual(Date.parse(bars[7]!.ts)),
    );
    await first.kill('SIGKILL');
    expect(first.child.signalCode).toBe('SIGKILL');

    // The rest of the stream arrives while the engine is down.
    await ingest(killed, bars.slice(30));
    const second = spawnEngine();
    await second.waitForLine('strategy service started');
    await eventually(async () => expect(await progressOf(killed)).toBe(bars[59]!.ts), { timeoutMs: 20_000 });
    await second.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    // The same bars through an engine that never stopped.
    reference.clock.set(Date.parse(start));
    const uninterrupted = await reference.start(file);
    await reference.publishBars(bars);
    await eventually(() => expect(uninterrupted.service.status()[0]!.progress.EURCAD).toBe(bars[59]!.ts));

    const expected = await reference.intents('restart');
    const actual = await killed.intents('restart');
    const shape = (rows: typeof actual) =>
      rows.map(({ intentId, barTs, sequence, side, quantity, status }) => ({
        intentId,
        barTs,
        sequence,
        side,
        quantity,
        status,
      }));
    // The first cross is at bar 3, then one per bar; nothing fills here (no execution), so the orders in
    // flight pile up and the position limit, which counts them at their worst, blocks some flips, after which
    // the sleeve's target is where it already stands and the next cross sends nothing.
    expect(expected).toHaveLength(34);
    expect(expected.filter((row) => row.status === 'accepted')).toHaveLength(10);
    expect(shape(actual)).toEqual(shape(expected));
    const accepted = actual.filter((row) => row.status === 'accepted');
    expect(accepted.every((row) => row.published)).toBe(true);

    // JetStream holds each accepted intent exactly once, under its own id (a blocked one is never sent).
    const messages = await killed.streamMessages('ORDERS', subjects.orderIntent('restart'));
    expect(messages.map((m) => m.msgId).sort()).toEqual(accepted.map((row) => row.intentId).sort());
    expect(messages.every((m) => (m.data as { intentId: string }).intentId === m.msgId)).toBe(true);
  });

  it('refuses to start with a bad sleeves file, listing every problem in one message', async () => {
    const bad = writeFile(
      'bad.yaml',
      [
        'instruments: [EUR.CAD]',
        'sleeves:',
        '  - { name: a, strategy: moon-phase, instruments: [EUR.CAD], timeframe: 1m, capitalUsd: 1000 }',
        '  - { name: b, strategy: ma-crossover, instruments: [GBP.USD], timeframe: 1m, capitalUsd: 1000, parameters: { fast: 9, slow: 3 } }',
      ].join('\n'),
    );
    const child = spawnTs(MAIN, [], { SLEEVES_FILE: bad, HTTP_PORT: '0' });
    children.push(child);
    let stderr = '';
    child.child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const { code } = await child.exited;
    expect(code).toBe(78);
    expect(stderr).toContain('invalid sleeves file');
    expect(stderr).toContain('(3 problems)');
    expect(stderr).toContain('sleeves[0] (a).strategy: unknown strategy "moon-phase"');
    expect(stderr).toContain(
      'sleeves[1] (b).instruments[0]: GBP.USD is not in the configured instruments (EUR.CAD)',
    );
    expect(stderr).toContain('sleeves[1] (b).parameters.fast: fast must be smaller than slow');
  });
});
