import { strategyRegistry, type StrategyDefinition } from '../sdk';
import { maCrossover } from './ma-crossover';
import { pivotPoints } from './pivot-points';
import { rsiMeanReversion } from './rsi-mean-reversion';

export { maCrossover, pivotPoints, rsiMeanReversion };
export { floorPivots, type PivotLevels } from './pivot-points';

/** The strategies a sleeve can name without extra wiring. */
export const BUILT_IN_STRATEGIES: readonly StrategyDefinition[] = [
  maCrossover,
  rsiMeanReversion,
  pivotPoints,
];

export const builtInStrategies = () => strategyRegistry(BUILT_IN_STRATEGIES);
