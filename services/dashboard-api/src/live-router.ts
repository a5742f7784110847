/**
 * Which WebSocket channel each live event goes to. Positions have no event of their own: a fill changes
 * them, and each new 1-minute bar changes their last price and unrealized P&L, so on either the positions
 * are read again (at most every 250 ms) and sent whole, valued at the newest 1-minute close seen here when
 * Postgres does not have that bar yet.
 */
import type { LiveEvent } from './adapters/live-feed';
import type { ReadStore } from './adapters/pg-read';
import type { WebSocketHub } from './ws/hub';

export function routeLiveEvents(hub: WebSocketHub, read: ReadStore, onError: (error: unknown) => void) {
  let positionsTimer: NodeJS.Timeout | undefined;
  /** Each instrument's newest 1-minute bar seen on the bus (one entry per instrument traded). */
  const closes = new Map<string, { ts: string; close: string }>();
  const refreshPositions = () => {
    if (positionsTimer || !hub.hasSubscribers('positions')) return;
    positionsTimer = setTimeout(() => {
      positionsTimer = undefined;
      read
        .positions(closes)
        .then((positions) => hub.publish('positions', positions))
        .catch(onError);
    }, 250);
  };
  const route = (event: LiveEvent): void => {
    switch (event.kind) {
      case 'tick':
        return hub.publish(`quotes:${event.message.instrument}`, event.message);
      case 'bar': {
        const bar = event.message;
        hub.publish(`bars:${bar.instrument}:${bar.timeframe}`, bar);
        const known = closes.get(bar.instrument);
        // A backfilled or repaired older bar is no newer price.
        if (bar.timeframe !== '1m' || (known && Date.parse(known.ts) > Date.parse(bar.ts))) return;
        closes.set(bar.instrument, { ts: bar.ts, close: bar.close });
        return refreshPositions();
      }
      case 'order':
        hub.publish('orders', event.message);
        if (event.message.status === 'rejected')
          hub.publish('errors', {
            source: 'order',
            message: `order ${event.message.brokerOrderId} ${event.message.instrument} rejected: ${event.message.reason ?? ''}`,
            detail: event.message,
          });
        return;
      case 'fill':
        hub.publish('fills', event.message);
        return refreshPositions();
      case 'account':
        return hub.publish('account', event.message);
      case 'trading_state':
        return hub.publish('trading_state', event.message);
      case 'gateway_status':
      case 'gateway_health':
        return hub.publish('gateway', { kind: event.kind, ...event.message });
      case 'reconciliation':
        hub.publish('reconciliation', event.message);
        if (!event.message.ok)
          hub.publish('errors', {
            source: 'reconciliation',
            message: `reconciliation found ${event.message.mismatches.length} mismatches`,
            detail: event.message,
          });
        return;
      case 'system_event':
        if (event.message.severity !== 'info')
          hub.publish('errors', {
            source: event.message.service,
            message: event.message.message,
            detail: event.message,
          });
        return;
    }
  };
  return {
    route,
    /** The positions as the channel sends them (its snapshot on subscribe too). */
    positions: () => read.positions(closes),
    stop: () => clearTimeout(positionsTimer),
  };
}
