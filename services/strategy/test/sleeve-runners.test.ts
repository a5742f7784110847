import { defineStrategy, parseSleevesConfig, strategyRegistry } from '@ibstack/strategy';
import { z } from 'zod';

import { SleeveRunners } from '../src/sleeve-runners';

const strategy = (name: string, options: { throws?: boolean; ticks?: boolean } = {}) =>
  defineStrategy({
    name,
    description: 'test strategy',
    parameters: z.object({}).strict(),
    warmupBars: () => 0,
    create: () => {
      if (options.throws) throw new Error('cannot create');
      return { onBar: () => [], ...(options.ticks ? { onTick: () => [] } : {}) };
    },
  });

const strategies = strategyRegistry([
  strategy('bars'),
  strategy('ticks', { ticks: true }),
  strategy('broken', { throws: true }),
]);

const file = JSON.stringify({
  instruments: ['EUR.CAD', 'EUR.USD'],
  sleeves: [
    { name: 'a', strategy: 'bars', instruments: ['EUR.CAD'], timeframe: '1m', capitalUsd: 1000 },
    { name: 'b', strategy: 'ticks', instruments: ['EUR.CAD', 'EUR.USD'], timeframe: '1m', capitalUsd: 1000 },
    { name: 'c', strategy: 'broken', instruments: ['EUR.USD'], timeframe: '5m', capitalUsd: 1000 },
    {
      name: 'd',
      strategy: 'bars',
      instruments: ['EUR.CAD'],
      timeframe: '1m',
      capitalUsd: 1000,
      enabled: false,
    },
  ],
});

describe('sleeve runners', () => {
  it('runs the enabled sleeves and routes each bar stream and tick instrument to its sleeves', async () => {
    const runners = new SleeveRunners(parseSleevesConfig(file, 'test.json', strategies).sleeves);
    const failed: string[] = [];
    await runners.createStrategies((runner, error) => {
      failed.push(`${runner.config.name}: ${(error as Error).message}`);
      return Promise.resolve();
    });

    expect(runners.names).toEqual(['a', 'b', 'c']);
    expect(runners.named('d')).toBeUndefined();
    expect(failed).toEqual(['c: cannot create']);
    expect(runners.named('c')!.strategy).toBeUndefined();
    expect(
      runners
        .bars()
        .map((stream) => [stream.instrument, stream.timeframe, stream.runners.map((r) => r.config.name)]),
    ).toEqual([
      ['EURCAD', '1m', ['a', 'b']],
      ['EURUSD', '1m', ['b']],
      // A sleeve whose strategy could not be created still follows its bars, so its progress moves on.
      ['EURUSD', '5m', ['c']],
    ]);
    expect(runners.forBar('EURCAD', '1m').map((r) => r.config.name)).toEqual(['a', 'b']);
    expect(runners.forBar('EURCAD', '5m')).toEqual([]);
    expect(runners.tickInstruments()).toEqual(['EURCAD', 'EURUSD']);
    expect(runners.forTick('EURUSD').map((r) => r.config.name)).toEqual(['b']);
  });
});
