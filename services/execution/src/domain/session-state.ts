/**
 * Pure: the decisions of execution's session/lease state machine. Given what the instance remembers and
 * what it reads now (does it hold the lease, is its gateway session ready), an event yields the new memory
 * and the actions to carry out; `session.ts` carries them out.
 *
 *   standby ──lease acquired──► connect the gateway (unless an operator holds the session down)
 *   held ──session ready──► accounts match the mode? start-up (recovery, reconciliation, take intents)
 *                                                    otherwise refuse to trade (halt)
 *   held, reconciled ──broker link back (1101/1102)──► resync (recovery, reconciliation)
 *   any ──session not ready / lease lost──► stop taking intents (lease lost: also leave the gateway)
 *
 * Invariants:
 * - Intents are taken only while the lease is held, the session is ready and the service is not stopping.
 * - Nothing acts on a broker event or a link coming back before the first reconciliation of the session.
 * - A session that starts after this instance took the lease over (or after any earlier reconciliation) is
 *   reconciled as `lease_acquired`, a reconnect as `reconnect`, the very first one as `start`.
 */

/** What the instance remembers across events. */
export interface SessionMemory {
  /** A session start-up has reconciled once since this instance started. */
  readonly everReconciled: boolean;
  /** The lease was taken over from another holder (waited for its TTL). */
  readonly tookOverLease: boolean;
  /** The gateway's accounts did not match the trading mode: this instance refuses to trade. */
  readonly refusedAccount: boolean;
  readonly stopping: boolean;
}

/** What the instance reads at the moment of the event. */
export interface SessionReadings {
  readonly leaseHeld: boolean;
  readonly gatewayReady: boolean;
}

export type StartTrigger = 'start' | 'reconnect' | 'lease_acquired';

export type SessionEvent =
  | { readonly type: 'lease_acquired'; readonly tookOver: boolean; readonly operatorHoldsDown: boolean }
  | { readonly type: 'lease_lost' }
  | { readonly type: 'gateway_state'; readonly state: 'connecting' | 'connected' | 'disconnected' }
  | {
      readonly type: 'session_ready';
      readonly reconnect: boolean;
      readonly accountProblems: readonly string[];
    }
  | { readonly type: 'session_reconciled' }
  | { readonly type: 'broker_link'; readonly up: boolean }
  | { readonly type: 'broker_surprise' }
  | { readonly type: 'stopping' };

export type SessionAction =
  | { readonly type: 'connect_gateway' }
  | { readonly type: 'stop_taking_intents' }
  | { readonly type: 'leave_gateway' }
  | { readonly type: 'refuse_account'; readonly problems: readonly string[] }
  | { readonly type: 'start_session'; readonly trigger: StartTrigger }
  | { readonly type: 'resync_after_link' }
  | { readonly type: 'reconcile_broker_event' };

export interface SessionStep {
  readonly memory: SessionMemory;
  readonly actions: readonly SessionAction[];
}

export const initialSessionMemory: SessionMemory = {
  everReconciled: false,
  tookOverLease: false,
  refusedAccount: false,
  stopping: false,
};

/** Whether this instance may take intents and commands now. */
export function mayTrade(memory: SessionMemory, readings: SessionReadings): boolean {
  return !memory.stopping && readings.gatewayReady && readings.leaseHeld;
}

/** Health: a standby is ready when it can take over; the holder when its session is up and trading. */
export function sessionHealthy(memory: SessionMemory, readings: SessionReadings): boolean {
  return !readings.leaseHeld || (readings.gatewayReady && !memory.refusedAccount);
}

function startTrigger(memory: SessionMemory, reconnect: boolean): StartTrigger {
  if (reconnect) return 'reconnect';
  return memory.tookOverLease || memory.everReconciled ? 'lease_acquired' : 'start';
}

export function sessionStep(
  memory: SessionMemory,
  readings: SessionReadings,
  event: SessionEvent,
): SessionStep {
  const none = (next: SessionMemory = memory): SessionStep => ({ memory: next, actions: [] });
  switch (event.type) {
    case 'lease_acquired': {
      const next = { ...memory, tookOverLease: event.tookOver };
      return readings.leaseHeld && !event.operatorHoldsDown
        ? { memory: next, actions: [{ type: 'connect_gateway' }] }
        : none(next);
    }
    case 'lease_lost':
      return { memory, actions: [{ type: 'stop_taking_intents' }, { type: 'leave_gateway' }] };
    case 'gateway_state':
      return event.state === 'connected' ? none() : { memory, actions: [{ type: 'stop_taking_intents' }] };
    case 'session_ready':
      if (memory.stopping || !readings.leaseHeld) return none();
      if (event.accountProblems.length > 0)
        return {
          memory: { ...memory, refusedAccount: true },
          actions: [{ type: 'refuse_account', problems: event.accountProblems }],
        };
      return { memory, actions: [{ type: 'start_session', trigger: startTrigger(memory, event.reconnect) }] };
    case 'session_reconciled':
      return none({ ...memory, everReconciled: true });
    // Also while the session is still starting (not yet reconciled): its start may have read the account
    // before the link dropped, and the resync queues behind the start, holding intents until it is done.
    case 'broker_link':
      return event.up && readings.gatewayReady && readings.leaseHeld && !memory.refusedAccount
        ? { memory, actions: [{ type: 'resync_after_link' }] }
        : none();
    case 'broker_surprise':
      return memory.everReconciled && readings.gatewayReady && readings.leaseHeld
        ? { memory, actions: [{ type: 'reconcile_broker_event' }] }
        : none();
    case 'stopping':
      return none({ ...memory, stopping: true });
  }
}
