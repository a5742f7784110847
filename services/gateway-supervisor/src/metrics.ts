import { GatewaySessionState } from '@ibstack/contracts';
import { counter, gauge, histogram, type Registry } from '@ibstack/observability';

/** The names the alert rules, the dashboard and the notifier are written against: keep them. */
export function gatewayMetrics(registry: Registry) {
  return {
    state: gauge(registry, 'gateway_state', '1 for the gateway session state now, 0 for every other state', [
      'state',
    ]),
    stateDuration: gauge(
      registry,
      'gateway_state_duration_seconds',
      'Seconds since the gateway entered its state',
    ),
    twoFactorPending: gauge(
      registry,
      'gateway_two_factor_pending_seconds',
      'Seconds the gateway has been waiting for two-factor authentication; 0 unless waiting',
    ),
    logins: counter(registry, 'gateway_logins_total', 'Gateway logins seen (not logged in → logged in)'),
    lastLogin: gauge(registry, 'gateway_last_login_unix', 'Unix time of the last gateway login seen'),
    ready: gauge(
      registry,
      'gateway_ready',
      'Last readiness probe (handshake + reqCurrentTime): 1 passed, 0 failed',
    ),
    probeDuration: histogram(
      registry,
      'gateway_probe_duration_seconds',
      'Readiness probe duration',
      [],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ),
    lastProbe: gauge(registry, 'gateway_last_probe_unix', 'Unix time of the last readiness probe'),
    inResetWindow: gauge(
      registry,
      'gateway_in_reset_window',
      "1 inside one of IBKR's reset windows for the region",
    ),
    escalated: gauge(
      registry,
      'gateway_disconnect_escalated',
      '1 while a broker disconnect has outlasted the grace outside every reset window',
    ),
  };
}
export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;

export const ALL_STATES = GatewaySessionState.options;
