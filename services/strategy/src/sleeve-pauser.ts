import { deterministicId, nowIso, type SystemEvent } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import { StrategyFailedError } from './errors';
import type { StrategyMetrics } from './metrics';
import type { StrategyEvents } from './ports';
import type { SleeveRunner } from './sleeve-runners';

/**
 * Pauses a sleeve whose strategy threw (or returned something that is not a decision), and says so: a
 * fatal log, `strategy_sleeve_paused{sleeve} 1`, and a critical `sleeve_paused` system event. The pause
 * touches that sleeve only and lasts until the process restarts.
 */
export class SleevePauser {
  constructor(
    runners: readonly SleeveRunner[],
    private readonly deps: {
      events: StrategyEvents;
      log: Logger;
      metrics: StrategyMetrics;
      clock: () => number;
      /** The `service` of the system event. */
      service: string;
    },
  ) {
    for (const runner of runners) deps.metrics.sleevePaused.set({ sleeve: runner.config.name }, 0);
  }

  /** `at` is the time of what the strategy was handling; with the phase it makes the event's id. */
  async pause(
    runner: SleeveRunner,
    phase: StrategyFailedError['phase'],
    cause: unknown,
    at: string,
  ): Promise<void> {
    const { events, log, metrics, clock, service } = this.deps;
    const error = new StrategyFailedError(runner.config.name, phase, { cause });
    runner.paused = error.message;
    metrics.sleevePaused.set({ sleeve: runner.config.name }, 1);
    log.fatal({ err: error, sleeve: runner.config.name, phase }, 'strategy failed; sleeve paused');
    const event: SystemEvent = {
      v: 1,
      eventId: deterministicId('sleeve_paused', runner.config.name, phase, at),
      service,
      severity: 'critical',
      code: 'sleeve_paused',
      message: error.message,
      detail: { sleeve: runner.config.name, strategy: runner.config.strategy.name, phase, at },
      ts: nowIso(clock),
    };
    await events
      .publishSystemEvent(event)
      .catch((publishError: unknown) => log.error({ err: publishError }, 'could not publish sleeve_paused'));
  }
}
