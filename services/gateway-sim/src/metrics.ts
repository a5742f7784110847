import { counter, gauge, type Registry } from '@ibstack/observability';

import { RequestId, ResponseId } from './protocol/message-ids';

const REQUEST_NAMES = new Map<number, string>(Object.entries(RequestId).map(([name, id]) => [id, name]));
const RESPONSE_NAMES = new Map<number, string>(Object.entries(ResponseId).map(([name, id]) => [id, name]));

/** The simulator's own metrics (the gateway side; clients export theirs through packages/ib). */
export function gatewaySimMetrics(registry: Registry) {
  const received = counter(
    registry,
    'gateway_sim_messages_received_total',
    'API requests received by message',
    ['message'],
  );
  const sent = counter(registry, 'gateway_sim_messages_sent_total', 'API messages sent by message', [
    'message',
  ]);
  // Bound children per message id: the streaming path counts every frame.
  const receivedChildren = new Map<number, { inc(): void }>();
  const sentChildren = new Map<number, { inc(): void }>();
  const child = (cache: Map<number, { inc(): void }>, make: () => { inc(): void }, id: number) => {
    let found = cache.get(id);
    if (!found) {
      found = make();
      cache.set(id, found);
    }
    return found;
  };
  return {
    connections: gauge(registry, 'gateway_sim_connections', 'Open API connections'),
    connectionsAccepted: counter(
      registry,
      'gateway_sim_connections_accepted_total',
      'API connections accepted',
    ),
    connectionsRejected: counter(
      registry,
      'gateway_sim_connections_rejected_total',
      'Connections closed at the handshake or for a client id in use',
      ['reason'],
    ),
    protocolErrors: counter(registry, 'gateway_sim_protocol_errors_total', 'Malformed input from clients', [
      'reason',
    ]),
    orders: counter(registry, 'gateway_sim_orders_total', 'Orders placed, by outcome', ['outcome']),
    fills: counter(registry, 'gateway_sim_fills_total', 'Executions booked'),
    marketDataDropped: counter(
      registry,
      'gateway_sim_market_data_dropped_total',
      'Market-data messages dropped because a client was not reading fast enough',
    ),
    filledQuantity: counter(
      registry,
      'gateway_sim_filled_quantity_total',
      'Units filled across all executions',
    ),
    faults: counter(registry, 'gateway_sim_faults_total', 'Faults injected', ['fault']),
    received: (messageId: number) => {
      const key = REQUEST_NAMES.has(messageId) ? messageId : -1;
      child(
        receivedChildren,
        () => received.labels({ message: REQUEST_NAMES.get(key) ?? 'other' }),
        key,
      ).inc();
    },
    sent: (messageId: number) => {
      // The handshake reply's first field is the server version, not a message id.
      const key = RESPONSE_NAMES.has(messageId) ? messageId : messageId >= 100 ? 0 : -1;
      const name = RESPONSE_NAMES.get(key) ?? (key === 0 ? 'serverVersion' : 'other');
      child(sentChildren, () => sent.labels({ message: name }), key).inc();
    },
  };
}
export type GatewaySimMetrics = ReturnType<typeof gatewaySimMetrics>;
