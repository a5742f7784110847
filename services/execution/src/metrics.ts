import { counter, gauge, histogram, type Registry } from '@ibstack/observability';

/** Execution's metrics; names from the ops plan (`ib_orders_*`, `strategy_*`) plus what the stack adds. */
export function executionMetrics(registry: Registry) {
  return {
    ordersSubmitted: counter(registry, 'ib_orders_submitted_total', 'Orders sent to the gateway', [
      'instrument',
      'side',
      'sleeve',
    ]),
    ordersFilled: counter(registry, 'ib_orders_filled_total', 'Orders completely filled', [
      'instrument',
      'side',
      'sleeve',
    ]),
    ordersRejected: counter(
      registry,
      'ib_orders_rejected_total',
      'Orders rejected by the broker or before sending',
      ['instrument', 'reason'],
    ),
    orderLatency: histogram(
      registry,
      'ib_order_latency_seconds',
      'From placeOrder to the broker acknowledging (stage=acknowledged) or filling (stage=filled) the order',
      ['stage'],
    ),
    brokerDataErrors: counter(
      registry,
      'execution_broker_data_errors_total',
      'Broker messages that could not be read',
      ['event'],
    ),
    fillsStored: counter(registry, 'execution_fills_stored_total', 'Executions stored (each exec id once)', [
      'instrument',
    ]),
    reconciliationRuns: counter(
      registry,
      'reconciliation_runs_total',
      'Reconciliation runs by result: ok, mismatch, or failed (could not compare: a broker read timed out)',
      ['trigger', 'result'],
    ),
    reconciliationMismatches: gauge(
      registry,
      'reconciliation_mismatch',
      'Mismatches of the last reconciliation run, by kind',
      ['kind'],
    ),
    reconciliationLastRun: gauge(
      registry,
      'reconciliation_last_run_unix',
      'Unix time of the last reconciliation run',
    ),
    reconciliationLastClean: gauge(
      registry,
      'reconciliation_last_clean_run_unix',
      'Unix time of the last clean reconciliation run (0 before the first); the age alert reads it',
    ),
    tradingState: gauge(
      registry,
      'trading_state',
      '1 for the current trading state (RUNNING, HALTED, REDUCING)',
      ['state'],
    ),
    reconciliationInterval: gauge(
      registry,
      'reconciliation_interval_seconds',
      'Period of the periodic reconciliation (RECONCILE_INTERVAL_MS); the alert rule reads it',
    ),
    tradingStateInfo: gauge(
      registry,
      'trading_state_info',
      '1 for the current trading state with the reason it was set and by whom',
      ['state', 'reason', 'by'],
    ),
    leaseHolder: gauge(registry, 'execution_lease_holder', '1 while this instance holds the execution lease'),
    leaseEpoch: gauge(registry, 'execution_lease_epoch', 'Fencing epoch of the lease this instance holds'),
    errorCircuitTripped: gauge(
      registry,
      'execution_error_circuit_tripped',
      '1 once the API error circuit has tripped',
    ),
    accountValuesTime: gauge(
      registry,
      'execution_account_values_unix',
      'Unix time the broker sent the account values of the latest snapshot (the loss rules judge by their age)',
    ),
    accountMaxAge: gauge(
      registry,
      'execution_account_max_age_seconds',
      'How old the account values may be before orders that add exposure are refused (ACCOUNT_MAX_AGE_MS)',
    ),
    nav: gauge(registry, 'strategy_nav_usd', 'Net liquidation value of the account (base currency)'),
    dailyPnl: gauge(registry, 'strategy_daily_pnl_usd', 'P&L since the start of the trading day'),
    dailyReturn: gauge(
      registry,
      'strategy_daily_return_pct',
      'Return since the start of the trading day, percent',
    ),
    drawdown: gauge(registry, 'strategy_drawdown_pct', 'Drawdown from the high-water mark, percent'),
    highWaterMark: gauge(registry, 'strategy_hwm_usd', 'High-water mark of the net liquidation value'),
  };
}
export type ExecutionMetrics = ReturnType<typeof executionMetrics>;
