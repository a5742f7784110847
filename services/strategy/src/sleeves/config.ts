import { readFileSync } from 'node:fs';

import {
  type Instrument,
  instrumentKey,
  type InstrumentKey,
  parseInstrumentSpec,
  SleeveName,
  Timeframe,
} from '@ibstack/contracts';
import { DEFAULT_FX_RATES_TO_USD, type FxRatesToUsd, PositiveConfigDecimal, RiskLimits } from '@ibstack/risk';
import { parseDocument } from 'yaml';
import { z } from 'zod';

import { SleeveConfigError } from '../errors';
import type { SizingRules } from '../domain/sizing';
import type { SleeveInstrument, StrategyDefinition, StrategyRegistry } from '../sdk';

/**
 * The sleeves file (YAML or JSON):
 *
 * ```yaml
 * instruments: [EUR.CAD, AAPL]        # what may be traded; every sleeve instrument must be listed
 * fxRatesToUsd: { CAD: 0.73 }         # optional overrides of the default FX table
 * riskDefaults: { maxOrdersPerMinute: 6 }   # optional, under every sleeve's own `risk`
 * sleeves:
 *   - name: demo
 *     strategy: ma-crossover
 *     instruments: [EUR.CAD]
 *     timeframe: 1m
 *     capitalUsd: 25000
 *     parameters: { fast: 2, slow: 5 }
 *     sizing: { quantityStep: 1000 }  # optional
 *     risk: { maxPositionUsd: 30000 } # optional
 *     enabled: true                   # optional
 * ```
 * Unknown keys are errors. Every problem is reported at once.
 */

const Sizing = z
  .object({
    /** Quantities are multiples of this. @default 1 */
    quantityStep: PositiveConfigDecimal.default('1'),
    /** Differences below this are not ordered. @default quantityStep */
    minQuantity: PositiveConfigDecimal.optional(),
  })
  .strict();

const SleeveSpec = z
  .object({
    name: SleeveName,
    strategy: z.string().min(1),
    instruments: z.array(z.string()).min(1),
    timeframe: Timeframe,
    /** Capital the sleeve trades with; a target weight of 1 is this much. */
    capitalUsd: PositiveConfigDecimal,
    parameters: z.record(z.string(), z.unknown()).default({}),
    sizing: Sizing.default({ quantityStep: '1' }),
    risk: z.record(z.string(), z.unknown()).default({}),
    /** @default true */
    enabled: z.boolean().default(true),
  })
  .strict();

const SleevesFile = z
  .object({
    instruments: z.array(z.string()).min(1),
    fxRatesToUsd: z
      .record(z.string().regex(/^[A-Z]{3}$/, 'must be a currency code'), PositiveConfigDecimal)
      .default({}),
    riskDefaults: z.record(z.string(), z.unknown()).default({}),
    sleeves: z.array(z.unknown()).min(1),
  })
  .strict();

export interface ConfiguredInstrument {
  key: InstrumentKey;
  spec: string;
  instrument: Instrument;
}

export interface SleeveConfig {
  name: string;
  strategy: StrategyDefinition;
  parameters: unknown;
  instruments: readonly SleeveInstrument[];
  timeframe: Timeframe;
  capitalUsd: string;
  sizing: SizingRules;
  risk: RiskLimits;
  enabled: boolean;
}

export interface SleevesConfig {
  instruments: ReadonlyMap<InstrumentKey, ConfiguredInstrument>;
  fxRatesToUsd: FxRatesToUsd;
  /** File-level limits; their drawdown thresholds decide when the account switches to REDUCING. */
  accountRisk: RiskLimits;
  sleeves: readonly SleeveConfig[];
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path)
    text += typeof part === 'number' ? `[${part}]` : `${text ? '.' : ''}${String(part)}`;
  return text || '(root)';
}

function issues(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    const where = prefix
      ? path === '(root)'
        ? prefix
        : `${prefix}${path.startsWith('[') ? '' : '.'}${path}`
      : path;
    return `${where}: ${issue.message}`;
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A sleeve's risk limits over the file's defaults, field by field; the unit caps per instrument key by key,
 * so capping one instrument in a sleeve keeps the default caps of the others.
 */
function withDefaults(
  defaults: Record<string, unknown>,
  own: Record<string, unknown>,
): Record<string, unknown> {
  const merged = { ...defaults, ...own };
  if (isPlainObject(defaults.maxPositionQuantity) && isPlainObject(own.maxPositionQuantity))
    merged.maxPositionQuantity = { ...defaults.maxPositionQuantity, ...own.maxPositionQuantity };
  return merged;
}

/** Parses and validates the text of a sleeves file. Throws SleeveConfigError listing every problem. */
export function parseSleevesConfig(text: string, file: string, strategies: StrategyRegistry): SleevesConfig {
  const problems: string[] = [];
  const document = parseDocument(text, { prettyErrors: false });
  if (document.errors.length > 0) {
    throw new SleeveConfigError(
      file,
      document.errors.map((error) => `syntax: ${error.message.split('\n')[0]}`),
    );
  }
  const raw: unknown = document.toJS();
  const top = SleevesFile.safeParse(raw);
  if (!top.success) throw new SleeveConfigError(file, issues('', top.error));

  const fxRatesToUsd: FxRatesToUsd = Object.freeze({ ...DEFAULT_FX_RATES_TO_USD, ...top.data.fxRatesToUsd });
  const instruments = new Map<InstrumentKey, ConfiguredInstrument>();
  top.data.instruments.forEach((spec, index) => {
    try {
      const instrument = parseInstrumentSpec(spec);
      const key = instrumentKey(instrument);
      instruments.set(key, { key, spec, instrument });
      if (fxRatesToUsd[instrument.currency] === undefined)
        problems.push(
          `instruments[${index}]: no FX rate to USD for ${instrument.currency}; add it under fxRatesToUsd`,
        );
    } catch (error) {
      problems.push(`instruments[${index}]: ${(error as Error).message}`);
    }
  });

  const defaults = RiskLimits.safeParse(top.data.riskDefaults);
  if (!defaults.success) problems.push(...issues('riskDefaults', defaults.error));
  // A unit cap under a key no instrument has (a typo) would limit nothing.
  const unknownCaps = (path: string, risk: Record<string, unknown>) => {
    const caps = risk.maxPositionQuantity;
    if (!isPlainObject(caps)) return;
    for (const key of Object.keys(caps))
      if (!instruments.has(key))
        problems.push(
          `${path}.maxPositionQuantity.${key}: not a configured instrument (${[...instruments.keys()].join(', ')})`,
        );
  };
  unknownCaps('riskDefaults', top.data.riskDefaults);

  const sleeves: SleeveConfig[] = [];
  const names = new Set<string>();
  top.data.sleeves.forEach((entry, index) => {
    const named = (entry as { name?: unknown } | null)?.name;
    const prefix = `sleeves[${index}]${typeof named === 'string' ? ` (${named})` : ''}`;
    const parsed = SleeveSpec.safeParse(entry);
    if (!parsed.success) {
      problems.push(...issues(prefix, parsed.error));
      return;
    }
    const spec = parsed.data;
    const before = problems.length;
    if (names.has(spec.name)) problems.push(`${prefix}.name: "${spec.name}" is used by another sleeve`);
    names.add(spec.name);

    const sleeveInstruments: SleeveInstrument[] = [];
    spec.instruments.forEach((text, i) => {
      try {
        const instrument = parseInstrumentSpec(text);
        const key = instrumentKey(instrument);
        if (!instruments.has(key)) {
          problems.push(
            `${prefix}.instruments[${i}]: ${text} is not in the configured instruments (${[...instruments.values()].map((c) => c.spec).join(', ')})`,
          );
          return;
        }
        sleeveInstruments.push({ key, spec: text, instrument: instruments.get(key)!.instrument });
      } catch (error) {
        problems.push(`${prefix}.instruments[${i}]: ${(error as Error).message}`);
      }
    });

    const strategy = strategies.get(spec.strategy);
    let parameters: unknown;
    if (!strategy) {
      problems.push(
        `${prefix}.strategy: unknown strategy "${spec.strategy}" (known: ${[...strategies.keys()].join(', ')})`,
      );
    } else {
      const result = strategy.parameters.safeParse(spec.parameters);
      if (result.success) parameters = result.data;
      else problems.push(...issues(`${prefix}.parameters`, result.error));
    }

    unknownCaps(`${prefix}.risk`, spec.risk);
    const risk = RiskLimits.safeParse(withDefaults(top.data.riskDefaults, spec.risk));
    if (!risk.success && defaults.success) problems.push(...issues(`${prefix}.risk`, risk.error));

    if (problems.length > before || !strategy || !risk.success) return;
    sleeves.push({
      name: spec.name,
      strategy,
      parameters,
      instruments: sleeveInstruments,
      timeframe: spec.timeframe,
      capitalUsd: spec.capitalUsd,
      sizing: {
        quantityStep: spec.sizing.quantityStep,
        minQuantity: spec.sizing.minQuantity ?? spec.sizing.quantityStep,
      },
      risk: risk.data,
      enabled: spec.enabled,
    });
  });

  if (problems.length > 0 || !defaults.success) throw new SleeveConfigError(file, problems);
  return Object.freeze({ instruments, fxRatesToUsd, accountRisk: defaults.data, sleeves });
}

/** Reads and validates a sleeves file. Throws SleeveConfigError (also for an unreadable file). */
export function loadSleevesFile(file: string, strategies: StrategyRegistry): SleevesConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SleeveConfigError(
      file,
      [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`],
      {
        cause: error,
      },
    );
  }
  return parseSleevesConfig(text, file, strategies);
}
