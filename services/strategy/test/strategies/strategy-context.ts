import type { Bar } from '@ibstack/contracts';
import { parseInstrumentSpec, instrumentKey } from '@ibstack/contracts';
import {
  Decision,
  type ParsedDecision,
  type SleeveInstrument,
  type Strategy,
  type StrategyContext,
  type StrategyDefinition,
} from '@ibstack/strategy';

export function sleeveInstrument(spec: string): SleeveInstrument {
  const instrument = parseInstrumentSpec(spec);
  return { key: instrumentKey(instrument), spec, instrument };
}

export const context: StrategyContext = { now: 0, warmingUp: false, position: () => '0' };

/** Builds a strategy for one sleeve from raw parameters, as the engine does after validating them. */
export function build(definition: StrategyDefinition, parameters: unknown, specs = ['EUR.CAD']): Strategy {
  return definition.create({
    sleeve: 'test',
    instruments: specs.map(sleeveInstrument),
    timeframe: '1m',
    parameters: definition.parameters.parse(parameters),
  });
}

/** Runs bars through a strategy; returns the decisions by bar index (only bars that decided something). */
export function run(strategy: Strategy, bars: readonly Bar[]): Array<[number, ParsedDecision[]]> {
  const out: Array<[number, ParsedDecision[]]> = [];
  bars.forEach((bar, index) => {
    const decisions = Decision.array().parse(strategy.onBar(bar, context) ?? []);
    if (decisions.length > 0) out.push([index + 1, decisions]);
  });
  return out;
}

/** The weights decided, by 1-based bar number. */
export function weights(strategy: Strategy, bars: readonly Bar[]): Array<[number, number]> {
  return run(strategy, bars).map(([bar, decisions]) => {
    const [decision] = decisions;
    if (decision?.type !== 'target') throw new Error(`bar ${bar}: expected a target`);
    return [bar, Number(decision.weight)];
  });
}
