/**
 * Operator commands from `sys.control.*`: halt, resume, reduce, reconcile now, cancel or modify an
 * order, cancel every working order. Each is audited (`audit_log` and `sys.audit`) with who issued it.
 */
import type { Bus } from '@ibstack/bus';
import { type AuditEntry, type ControlCommand, deterministicId, nowIso, topics } from '@ibstack/contracts';
import type { Logger } from '@ibstack/observability';

import type { Broker } from './ports';
import type { ExecutionStore } from './adapters/pg-store';
import { cancelWorkingOrders } from './working-orders';
import type { DurableTradingState } from '@ibstack/operator';

export interface ControlDependencies {
  store: ExecutionStore;
  bus: Bus;
  broker: Broker;
  tradingState: DurableTradingState;
  log: Logger;
  reconcileNow: () => Promise<unknown>;
  /** Clears the API error circuit when an operator resumes. */
  onResume: () => void;
  /** Epoch ms. @default Date.now */
  clock?: () => number;
  /** Re-sends a recorded order with new terms under the same id (a modification at IB). */
  modify: (
    intentId: string,
    changes: { quantity?: string; limitPrice?: string; stopPrice?: string },
  ) => Promise<string>;
}

export async function handleControlCommand(
  command: ControlCommand,
  deps: ControlDependencies,
): Promise<void> {
  const { store, bus, tradingState, broker, log } = deps;
  let outcome: string;
  switch (command.command) {
    case 'halt':
      await tradingState.halt(command.reason, command.by);
      outcome = 'trading halted';
      break;
    case 'resume':
      await tradingState.set('RUNNING', command.reason, command.by);
      deps.onResume();
      outcome = 'trading resumed';
      break;
    case 'reduce':
      await tradingState.set('REDUCING', command.reason, command.by);
      outcome = 'trading reduced to closing orders';
      break;
    case 'reconcile':
      await deps.reconcileNow();
      outcome = 'reconciliation run';
      break;
    case 'cancel_order': {
      const order = await store.orders.orderByIntent(command.intentId);
      if (!order || order.broker_order_id === null) {
        outcome = `no sent order for intent ${command.intentId}`;
      } else {
        broker.cancelOrder(order.broker_order_id);
        outcome = `cancel sent for order ${order.broker_order_id}`;
      }
      break;
    }
    case 'cancel_working_orders': {
      const cancelled = await cancelWorkingOrders({ store, broker, log });
      outcome = `cancel sent for ${cancelled.length} working order(s)${cancelled.length ? `: ${cancelled.join(', ')}` : ''}`;
      break;
    }
    case 'modify_order':
      outcome = await deps.modify(command.intentId, {
        ...(command.quantity ? { quantity: command.quantity } : {}),
        ...(command.limitPrice ? { limitPrice: command.limitPrice } : {}),
        ...(command.stopPrice ? { stopPrice: command.stopPrice } : {}),
      });
      break;
  }
  const entry: AuditEntry = {
    v: 1,
    auditId: deterministicId('control', command.commandId),
    actor: command.by,
    action: command.command,
    detail: { ...command, outcome },
    at: nowIso(deps.clock),
  };
  await store.audit.record(entry);
  await bus
    .publish(topics.audit, entry)
    .catch((error: unknown) => log.warn({ err: error }, 'could not publish the audit entry'));
  log.info({ command: command.command, by: command.by, outcome }, 'operator command');
}
