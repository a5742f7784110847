import { counter, gauge, histogram, type Registry } from '@ibstack/observability';

export function dashboardMetrics(registry: Registry) {
  return {
    logins: counter(registry, 'dashboard_logins_total', 'Login attempts by result', ['result']),
    requests: counter(registry, 'dashboard_http_requests_total', 'REST requests by route and status class', [
      'route',
      'status',
    ]),
    requestSeconds: histogram(registry, 'dashboard_http_request_seconds', 'REST request duration', ['route']),
    websocketClients: gauge(registry, 'dashboard_websocket_clients', 'Connected WebSocket clients', [
      'state',
    ]),
    websocketDropped: counter(
      registry,
      'dashboard_websocket_dropped_total',
      'WebSocket clients closed by us',
      ['reason'],
    ),
    websocketMessages: counter(
      registry,
      'dashboard_websocket_messages_total',
      'Messages sent to WebSocket clients',
      ['channel'],
    ),
  };
}
export type DashboardMetrics = ReturnType<typeof dashboardMetrics>;
