import { BUILT_IN_INSTRUMENTS, type GatewaySim } from '@ibstack/gateway-sim';
import { parseInstrumentSpec } from '@ibstack/contracts';
import { IbConnection } from '@ibstack/ib';
import { createRegistry, type Registry } from '@ibstack/observability';
import { silentLogger } from '@ibstack/test-kit';

import { type HistoricalAnswer, IbMarketData, type ResolvedInstrument } from '../src/adapters/ib-market-data';
import { chunkFor } from '../src/domain/backfill-plan';
import { IB_PACING_LIMITS, PacingLimiter } from '../src/domain/pacing';
import { HistoricalDataError, NoHistoricalDataError } from '../src/errors';
import { PacedHistory } from '../src/paced-history';
import { MINUTE, startSim, TUESDAY_MORNING } from './support/harness';

// The limiter against the simulator, which enforces IB's real pacing numbers in wall-clock time. Each
// case gets a fresh simulator, since the simulator remembers every request for ten minutes.
describe('historical pacing against the gateway’s rules', () => {
  let sim: GatewaySim;
  let simRegistry: Registry;
  let connection: IbConnection;
  let marketData: IbMarketData;

  beforeEach(async () => {
    simRegistry = createRegistry('gateway-sim', { defaultMetrics: false });
    sim = await startSim({ registry: simRegistry });
    connection = new IbConnection({
      host: '127.0.0.1',
      port: sim.port,
      clientId: 31,
      logger: silentLogger(),
      registry: createRegistry('test', { defaultMetrics: false }),
    });
    marketData = new IbMarketData(connection, { requestTimeoutMs: 5_000, historyTimeoutMs: 10_000 });
    connection.start();
    await connection.waitUntilReady(5_000);
  });

  afterEach(async () => {
    await connection.stop();
    await sim.close();
  });

  /** One-minute windows ending at distinct minutes before the simulator's start: cheap, all different. */
  function request(resolved: ResolvedInstrument, index: number) {
    const end = Date.parse(TUESDAY_MORNING) - (index + 1) * MINUTE;
    const chunk = chunkFor(end - MINUTE, end);
    return {
      contract: resolved.contract,
      label: resolved.key,
      timeZone: resolved.timeZoneId,
      request: {
        endDateTime: chunk.endDateTime,
        duration: chunk.duration,
        barSize: '1 min',
        whatToShow: 'MIDPOINT',
        useRegularTradingHours: false,
      },
    };
  }

  function unpaced(input: ReturnType<typeof request>): Promise<HistoricalAnswer> {
    return marketData.historicalBars(input.contract, input.label, input.request, input.timeZone);
  }

  function paced(limiter = new PacingLimiter(IB_PACING_LIMITS, Date.now)): PacedHistory {
    return new PacedHistory({
      fetch: (contract, label, historical, timeZone) =>
        marketData.historicalBars(contract, label, historical, timeZone),
      limiter,
      wallClock: Date.now,
      canSend: () => connection.isReady(),
    });
  }

  async function requestsSeenBySimulator(): Promise<number> {
    const { values } = await simRegistry.getSingleMetric('gateway_sim_messages_received_total')!.get();
    return values.find((value) => value.labels.message === 'reqHistoricalData')?.value ?? 0;
  }

  const refusals = (results: PromiseSettledResult<unknown>[]) =>
    results.flatMap((result) =>
      result.status === 'rejected' && result.reason instanceof HistoricalDataError
        ? [result.reason.ibCode]
        : [],
    );

  it('without the limiter, six requests for one contract within two seconds trip the gateway (162)', async () => {
    const eurusd = await marketData.resolve(parseInstrumentSpec('EUR.USD'));
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => unpaced(request(eurusd, i))),
    );
    expect(refusals(results)).toEqual([162]);
  });

  it('without the limiter, an identical request within fifteen seconds trips the gateway (162)', async () => {
    const gbpusd = await marketData.resolve(parseInstrumentSpec('GBP.USD'));
    await unpaced(request(gbpusd, 0));
    await expect(unpaced(request(gbpusd, 0))).rejects.toMatchObject({ ibCode: 162 });
  });

  it('with the limiter, the same requests all succeed: the sixth waits out the two seconds, the identical one is answered without asking again', async () => {
    const eurusd = await marketData.resolve(parseInstrumentSpec('EUR.USD'));
    const history = paced();
    const controller = new AbortController();
    const started = Date.now();
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => history.fetch(request(eurusd, i), controller.signal)),
      history.fetch(request(eurusd, 0), controller.signal),
    ]);
    const elapsed = Date.now() - started;
    expect(answers.every((answer) => answer.bars.length === 1)).toBe(true);
    expect(answers[6]).toEqual(answers[0]);
    expect(elapsed).toBeGreaterThanOrEqual(2_000);
    expect(elapsed).toBeLessThan(5_000);
    expect(await requestsSeenBySimulator()).toBe(6);
  });

  it('with the limiter, the sixty-first request of ten minutes is held back instead of refused', async () => {
    // Sixty requests spread over twelve contracts (five each, the most one contract may take in 2 s).
    const pairs = BUILT_IN_INSTRUMENTS.filter((instrument) => instrument.secType === 'CASH').slice(0, 12);
    expect(pairs).toHaveLength(12);
    const resolved = await Promise.all(
      pairs.map((pair) => marketData.resolve(parseInstrumentSpec(pair.label))),
    );
    const limiter = new PacingLimiter(IB_PACING_LIMITS, Date.now);
    const history = paced(limiter);
    const controller = new AbortController();
    const answers = await Promise.all(
      resolved.flatMap((instrument) =>
        Array.from({ length: 5 }, (_, i) => history.fetch(request(instrument, i), controller.signal)),
      ),
    );
    expect(answers).toHaveLength(60);
    const sixtyFirst = request(resolved[0]!, 10);
    // The simulator would refuse it now …
    await expect(unpaced(sixtyFirst)).rejects.toMatchObject({ ibCode: 162 });
    // … and the limiter holds it for the rest of the ten minutes (the refused one was not counted).
    const wait = limiter.delayFor({ identity: 'next', contract: sixtyFirst.label });
    expect(wait).toBeGreaterThan(590_000);
    const pending = history.fetch(sixtyFirst, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'StoppedError' });
    expect(await requestsSeenBySimulator()).toBe(61);
  });

  it('reads the gateway’s 162 "HMDS query returned no data" for an empty window as an answer, not a refusal', async () => {
    const eurusd = await marketData.resolve(parseInstrumentSpec('EUR.USD'));
    // Saturday noon New York, an hour of it: forex is closed, the window holds no bar.
    const end = Date.parse('2026-11-21T17:00:00.000Z');
    const chunk = chunkFor(end - 60 * MINUTE, end);
    const answer = marketData.historicalBars(
      eurusd.contract,
      eurusd.key,
      {
        endDateTime: chunk.endDateTime,
        duration: chunk.duration,
        barSize: '1 min',
        whatToShow: 'MIDPOINT',
        useRegularTradingHours: false,
      },
      eurusd.timeZoneId,
    );
    await expect(answer).rejects.toBeInstanceOf(NoHistoricalDataError);
    await expect(answer).rejects.not.toBeInstanceOf(HistoricalDataError);
  });
});
