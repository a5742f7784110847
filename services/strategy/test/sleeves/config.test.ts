import { join } from 'node:path';

import {
  builtInStrategies,
  DEFAULT_SLEEVES_FILE,
  loadSleevesFile,
  parseSleevesConfig,
  SleeveConfigError,
} from '@ibstack/strategy';

const strategies = builtInStrategies();

function problemsOf(text: string): string[] {
  try {
    parseSleevesConfig(text, 'test.yaml', strategies);
  } catch (error) {
    if (error instanceof SleeveConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the file to be rejected');
}

describe('sleeves file', () => {
  it('ships a valid demo that trades EUR.CAD on 1-minute bars', () => {
    const config = loadSleevesFile(DEFAULT_SLEEVES_FILE, strategies);
    expect(DEFAULT_SLEEVES_FILE).toMatch(/services\/strategy\/config\/demo\.yaml$/);
    expect(config.sleeves).toHaveLength(1);
    const [demo] = config.sleeves;
    expect(demo).toMatchObject({ name: 'demo', timeframe: '1m', capitalUsd: '23000' });
    expect(demo!.strategy.name).toBe('ma-crossover');
    expect(demo!.instruments.map((i) => i.key)).toEqual(['EURCAD']);
    expect(demo!.risk).toMatchObject({
      maxOrdersPerMinute: 6,
      maxPositionUsd: '40000',
      drawdownReducePct: '10',
    });
  });

  it('ships valid examples for every built-in strategy', () => {
    const config = loadSleevesFile(join(__dirname, '..', '..', 'config', 'examples.yaml'), strategies);
    expect(new Set(config.sleeves.map((s) => s.strategy.name))).toEqual(new Set(strategies.keys()));
    expect(config.fxRatesToUsd.CAD).toBe('0.72');
    expect(config.sleeves.find((s) => s.name === 'pivots-aapl')?.enabled).toBe(false);
  });

  it('applies defaults: sizing step 1, risk defaults under the sleeve limits, enabled', () => {
    const config = parseSleevesConfig(
      JSON.stringify({
        instruments: ['AAPL'],
        riskDefaults: { maxOrdersPerMinute: 3, maxPositionUsd: 1000 },
        sleeves: [
          {
            name: 'a',
            strategy: 'rsi-mean-reversion',
            instruments: ['AAPL'],
            timeframe: '5m',
            capitalUsd: '1000.50',
            risk: { maxPositionUsd: 500 },
          },
        ],
      }),
      'inline.json',
      strategies,
    );
    const [sleeve] = config.sleeves;
    expect(sleeve).toMatchObject({
      capitalUsd: '1000.5',
      sizing: { quantityStep: '1', minQuantity: '1' },
      enabled: true,
      parameters: { period: 14, oversold: 30, overbought: 70, exit: 50, allowShort: true },
    });
    expect(sleeve!.risk).toMatchObject({
      maxOrdersPerMinute: 3,
      maxPositionUsd: '500',
      maxOrderNotionalUsd: '50000',
    });
    expect(config.accountRisk.maxPositionUsd).toBe('1000');
  });

  it('lists every problem at once: strategy, parameters, instruments, names, risk, FX, unknown keys', () => {
    const problems = problemsOf(`
instruments: [EUR.CAD, USD.SEK, "eur/usd"]
sleeves:
  - name: one
    strategy: moon-phase
    instruments: [EUR.CAD]
    timeframe: 1m
    capitalUsd: 1000
  - name: two
    strategy: ma-crossover
    instruments: [GBP.USD, "not an instrument"]
    timeframe: 1m
    capitalUsd: 1000
    parameters: { fast: 0, slow: 5, colour: red }
  - name: one
    strategy: rsi-mean-reversion
    instruments: [EUR.CAD]
    timeframe: 2m
    capitalUsd: -5
    risk: { maxOrdersPerMinute: 0 }
    sizing: { step: 10 }
  - name: three
    strategy: pivot-points
    instruments: [EUR.CAD]
    timeframe: 1m
    capitalUsd: 1000
    risk: { maxOrdersPerMinute: 0, maxPositionUSD: 5 }
`);
    expect(problems).toEqual([
      'instruments[1]: no FX rate to USD for SEK; add it under fxRatesToUsd',
      'instruments[2]: instrument "eur/usd": expected "EUR.CAD", "AAPL" or "SYMBOL:SECTYPE:EXCHANGE:CURRENCY"',
      'sleeves[0] (one).strategy: unknown strategy "moon-phase" (known: ma-crossover, rsi-mean-reversion, pivot-points)',
      'sleeves[1] (two).instruments[0]: GBP.USD is not in the configured instruments (EUR.CAD, USD.SEK)',
      expect.stringMatching(/^sleeves\[1\] \(two\)\.instruments\[1\]: instrument "not an instrument"/),
      expect.stringMatching(/^sleeves\[1\] \(two\)\.parameters\.fast: Too small/),
      expect.stringMatching(/^sleeves\[1\] \(two\)\.parameters: Unrecognized key: "colour"/),
      expect.stringMatching(/^sleeves\[2\] \(one\)\.timeframe: Invalid option/),
      'sleeves[2] (one).capitalUsd: must be > 0',
      expect.stringMatching(/^sleeves\[2\] \(one\)\.sizing: Unrecognized key: "step"/),
      expect.stringMatching(/^sleeves\[3\] \(three\)\.risk\.maxOrdersPerMinute: Too small/),
      expect.stringMatching(/^sleeves\[3\] \(three\)\.risk: Unrecognized key: "maxPositionUSD"/),
    ]);
  });

  it('keeps the default unit caps of other instruments when a sleeve caps one, and refuses a cap on nothing traded', () => {
    const file = (sleeveRisk: Record<string, unknown>) =>
      JSON.stringify({
        instruments: ['EUR.CAD', 'AAPL'],
        riskDefaults: { maxPositionQuantity: { EURCAD: 60000, AAPL: 500 } },
        sleeves: [
          {
            name: 'a',
            strategy: 'ma-crossover',
            instruments: ['EUR.CAD', 'AAPL'],
            timeframe: '1m',
            capitalUsd: 1000,
            risk: sleeveRisk,
          },
        ],
      });
    // Capping AAPL tighter in the sleeve replaced the whole table: EUR.CAD had no unit cap left.
    const [sleeve] = parseSleevesConfig(
      file({ maxPositionQuantity: { AAPL: 100 } }),
      'x.json',
      strategies,
    ).sleeves;
    expect(sleeve!.risk.maxPositionQuantity).toEqual({ EURCAD: '60000', AAPL: '100' });
    // A cap under a key no configured instrument has (a typo) limits nothing: an error, not silence.
    expect(problemsOf(file({ maxPositionQuantity: { EURCDA: 1000 } }))).toEqual([
      'sleeves[0] (a).risk.maxPositionQuantity.EURCDA: not a configured instrument (EURCAD, AAPL)',
    ]);
  });

  it('reports a duplicate sleeve name', () => {
    const sleeve = { strategy: 'ma-crossover', instruments: ['AAPL'], timeframe: '1m', capitalUsd: 1 };
    expect(
      problemsOf(
        JSON.stringify({
          instruments: ['AAPL'],
          sleeves: [
            { name: 'x', ...sleeve },
            { name: 'x', ...sleeve },
          ],
        }),
      ),
    ).toEqual(['sleeves[1] (x).name: "x" is used by another sleeve']);
  });

  it('reports a syntax error and an unreadable file as one clear problem each', () => {
    expect(problemsOf('sleeves: [\n')[0]).toMatch(/^syntax: /);
    expect(() => loadSleevesFile('/nonexistent/sleeves.yaml', strategies)).toThrow(
      /invalid sleeves file \/nonexistent\/sleeves.yaml \(1 problem\):\n {2}- cannot read the file \(ENOENT\)/,
    );
  });

  it('reports a top-level shape error with its path', () => {
    expect(problemsOf(JSON.stringify({ instruments: [], sleeves: [], extra: 1 }))).toEqual([
      expect.stringMatching(/^instruments: Too small/),
      expect.stringMatching(/^sleeves: Too small/),
      expect.stringMatching(/^\(root\): Unrecognized key: "extra"/),
    ]);
  });
});
