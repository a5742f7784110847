/**
 * The error-circuit halt: API errors on a live session are weighed one at a time, in arrival order, by the
 * pure `ErrorCircuit` (domain/error-circuit.ts); when more than the limit happen within the window,
 * trading halts. The halt must land (the circuit's state is only in memory), so a failed one is retried
 * with backoff. A tripped circuit re-arms once trading is no longer HALTED, however the operator resumed.
 */
import { backoffDelayMs, Mutex, SECOND_MS } from '@ibstack/contracts';
import type { DurableTradingState } from '@ibstack/operator';
import { type ClassifiedIbError, countsAsApiError } from '@ibstack/ib';
import type { Logger } from '@ibstack/observability';

import { ErrorCircuit } from './domain/error-circuit';
import type { ExecutionMetrics } from './metrics';
import type { Reconciler } from './reconciler';

/** Retrying a halt the error circuit could not land: 1 s, 2 s, 4 s … at most 30 s. */
const HALT_RETRY_BACKOFF = { firstMs: SECOND_MS, maxMs: 30 * SECOND_MS };

export interface ErrorHaltDependencies {
  maxErrors: number;
  windowMs: number;
  /** Epoch ms. */
  clock: () => number;
  /** Only errors while this holds count (the lease held, the session ready). */
  counts: () => boolean;
  tradingState: Pick<DurableTradingState, 'get'>;
  reconciler: Pick<Reconciler, 'halt'>;
  metrics: ExecutionMetrics;
  log: Logger;
  /** After a halt landed (the trading-state metrics follow). */
  onHalted: () => Promise<void>;
}

export class ErrorHalt {
  private readonly circuit: ErrorCircuit;
  private readonly weighing = new Mutex();

  constructor(private readonly deps: ErrorHaltDependencies) {
    this.circuit = new ErrorCircuit(deps.maxErrors, deps.windowMs, deps.clock);
  }

  /** Weighs one error from the gateway (only those that count as API errors on a live session). */
  onError(error: ClassifiedIbError): void {
    // Only failures on a live session count: a gateway restart's connection errors have their own metrics.
    if (!countsAsApiError(error) || !this.deps.counts()) return;
    this.weighing
      .run(() => this.weigh(error))
      .catch((failure: unknown) => this.deps.log.error({ err: failure }, 'could not weigh an API error'));
  }

  /** Re-arms the circuit (an operator resume). */
  reset(): void {
    this.circuit.reset();
    this.deps.metrics.errorCircuitTripped.set(0);
  }

  private async weigh(error: ClassifiedIbError): Promise<void> {
    const { deps, circuit } = this;
    // A tripped circuit re-arms once trading is no longer HALTED, however the operator resumed
    // (a control command, or the CLI writing the trading state itself while execution was busy).
    if (circuit.tripped && (await deps.tradingState.get()).state !== 'HALTED') this.reset();
    if (!circuit.record()) return;
    deps.metrics.errorCircuitTripped.set(1);
    deps.log.error({ recentErrors: circuit.recentErrors }, 'API error circuit tripped: halting trading');
    const reason = `multiple API errors: more than ${deps.maxErrors} in ${deps.windowMs / 1000} s`;
    const halt = (attempt: number): void => {
      deps.reconciler
        .halt(reason, { lastCode: error.code, lastMessage: error.message })
        .then(deps.onHalted)
        .catch((failure: unknown) => {
          // The halt must land: the circuit's state is only in memory.
          deps.log.error({ err: failure, attempt }, 'could not halt for the error circuit; retrying');
          setTimeout(() => halt(attempt + 1), backoffDelayMs(attempt + 1, HALT_RETRY_BACKOFF));
        });
    };
    halt(0);
  }
}
