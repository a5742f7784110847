import type { InstrumentKey, Timeframe } from '@ibstack/contracts';

import type { SleeveBook } from './domain/sleeve-book';
import type { Strategy, StrategyContext } from './sdk';
import type { SleeveConfig } from './sleeves/config';

/** A sleeve at run time: its strategy instance and what the engine tracks about it. */
export interface SleeveRunner {
  readonly config: SleeveConfig;
  /** Undefined when creating it failed (the sleeve is then paused). */
  strategy: Strategy | undefined;
  /** Why the sleeve is paused, or null while it trades. */
  paused: string | null;
  /** Times (epoch ms) of the sleeve's accepted orders, for the order-rate limit. */
  recentOrderTimes: number[];
}

export interface BarStream {
  instrument: InstrumentKey;
  timeframe: Timeframe;
  runners: SleeveRunner[];
}

/** The enabled sleeves, and which of them each bar stream and tick stream goes to. */
export class SleeveRunners {
  readonly all: readonly SleeveRunner[];
  private readonly byName = new Map<string, SleeveRunner>();
  /** The bar streams in the order first followed. */
  private readonly barStreams: BarStream[] = [];
  /**
   * The same streams by instrument, then timeframe, for `forBar`: every bar looks its stream up, and a
   * joined key would be a new string each time.
   */
  private readonly barStreamIndex = new Map<InstrumentKey, Map<Timeframe, BarStream>>();
  private readonly tickStreams = new Map<InstrumentKey, SleeveRunner[]>();

  constructor(sleeves: readonly SleeveConfig[]) {
    this.all = sleeves
      .filter((sleeve) => sleeve.enabled)
      .map((config) => ({ config, strategy: undefined, paused: null, recentOrderTimes: [] }));
    for (const runner of this.all) this.byName.set(runner.config.name, runner);
  }

  get names(): string[] {
    return this.all.map((runner) => runner.config.name);
  }

  named(sleeve: string): SleeveRunner | undefined {
    return this.byName.get(sleeve);
  }

  /**
   * Creates each sleeve's strategy and subscribes the sleeve to its bars (and ticks, if the strategy
   * handles them). A strategy that fails to create is handed to `onFailure`; its sleeve still follows its
   * bars, so its progress moves on.
   */
  async createStrategies(onFailure: (runner: SleeveRunner, error: unknown) => Promise<void>): Promise<void> {
    for (const runner of this.all) {
      const { config } = runner;
      try {
        runner.strategy = config.strategy.create({
          sleeve: config.name,
          instruments: config.instruments,
          timeframe: config.timeframe,
          parameters: config.parameters,
        });
      } catch (error) {
        await onFailure(runner, error);
      }
      for (const instrument of config.instruments) {
        let timeframes = this.barStreamIndex.get(instrument.key);
        if (!timeframes)
          this.barStreamIndex.set(instrument.key, (timeframes = new Map<Timeframe, BarStream>()));
        let stream = timeframes.get(config.timeframe);
        if (!stream) {
          stream = { instrument: instrument.key, timeframe: config.timeframe, runners: [] };
          timeframes.set(config.timeframe, stream);
          this.barStreams.push(stream);
        }
        stream.runners.push(runner);
        if (runner.strategy?.onTick)
          this.tickStreams.set(instrument.key, [...(this.tickStreams.get(instrument.key) ?? []), runner]);
      }
    }
  }

  /** The bar streams some sleeve follows, in the order the sleeves file names them. */
  bars(): BarStream[] {
    return [...this.barStreams];
  }

  /** Instruments some sleeve's strategy wants ticks of. */
  tickInstruments(): InstrumentKey[] {
    return [...this.tickStreams.keys()];
  }

  forBar(instrument: InstrumentKey, timeframe: Timeframe): readonly SleeveRunner[] {
    return this.barStreamIndex.get(instrument)?.get(timeframe)?.runners ?? NO_RUNNERS;
  }

  forTick(instrument: InstrumentKey): readonly SleeveRunner[] {
    return this.tickStreams.get(instrument) ?? [];
  }
}

const NO_RUNNERS: readonly SleeveRunner[] = Object.freeze([]);

/** What a strategy sees of the engine while it handles a bar, tick or fill. */
export function strategyContext(
  book: SleeveBook,
  runner: SleeveRunner,
  now: number,
  warmingUp: boolean,
): StrategyContext {
  return new EngineContext(book, runner.config.name, now, warmingUp);
}

/**
 * A class rather than an object literal with an arrow function: it is built for every sleeve on every bar,
 * and a closure per bar is not free.
 */
class EngineContext implements StrategyContext {
  constructor(
    private readonly book: SleeveBook,
    private readonly sleeve: string,
    readonly now: number,
    readonly warmingUp: boolean,
  ) {}

  position(instrument: InstrumentKey): string {
    return this.book.position(this.sleeve, instrument).toFixed();
  }
}
