import { counter, gauge, type Registry } from '@ibstack/observability';

/** The connection metrics of the ops plan, shared by every service that talks to a gateway. */
export function ibConnectionMetrics(registry: Registry) {
  return {
    connectionUp: gauge(
      registry,
      'ib_connection_up',
      '1 while the API session is ready (nextValidId received)',
    ),
    lastReconnect: gauge(registry, 'ib_last_reconnect_unix', 'Unix time of the last successful reconnect'),
    reconnects: counter(registry, 'ib_reconnect_total', 'Successful reconnects after a lost session'),
    reconnectFailures: counter(registry, 'ib_reconnect_failures_total', 'Connection attempts that failed'),
    brokerConnectivity: gauge(
      registry,
      'ib_broker_connectivity_up',
      '0 while the gateway reports its link to IB down (1100/2110), 1 otherwise',
    ),
    errors: counter(registry, 'ib_api_errors_total', 'Errors and notices from the gateway by code and kind', [
      'code',
      'kind',
    ]),
    heartbeatTimeouts: counter(
      registry,
      'ib_heartbeat_timeouts_total',
      'Sessions dropped because the gateway stopped answering reqCurrentTime',
    ),
  };
}
export type IbConnectionMetrics = ReturnType<typeof ibConnectionMetrics>;
