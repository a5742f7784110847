import {
  initialSessionMemory,
  mayTrade,
  type SessionAction,
  type SessionEvent,
  sessionHealthy,
  type SessionMemory,
  type SessionReadings,
  sessionStep,
} from '../../src/domain/session-state';

const memory = (overrides: Partial<SessionMemory> = {}): SessionMemory => ({
  ...initialSessionMemory,
  ...overrides,
});
const held: SessionReadings = { leaseHeld: true, gatewayReady: true };
const heldNoSession: SessionReadings = { leaseHeld: true, gatewayReady: false };
const standby: SessionReadings = { leaseHeld: false, gatewayReady: false };
const reconciled = memory({ everReconciled: true });

describe('session state machine', () => {
  it.each<[string, SessionMemory, SessionReadings, SessionEvent, SessionAction[], Partial<SessionMemory>]>([
    [
      'connects the gateway when the lease is acquired',
      memory(),
      heldNoSession,
      { type: 'lease_acquired', tookOver: false, operatorHoldsDown: false },
      [{ type: 'connect_gateway' }],
      { tookOverLease: false },
    ],
    [
      'remembers a take-over and connects',
      memory(),
      heldNoSession,
      { type: 'lease_acquired', tookOver: true, operatorHoldsDown: false },
      [{ type: 'connect_gateway' }],
      { tookOverLease: true },
    ],
    [
      'stays off the gateway while an operator holds the session down',
      memory(),
      heldNoSession,
      { type: 'lease_acquired', tookOver: true, operatorHoldsDown: true },
      [],
      { tookOverLease: true },
    ],
    [
      'does not connect for an acquisition already lost again',
      memory(),
      standby,
      { type: 'lease_acquired', tookOver: false, operatorHoldsDown: false },
      [],
      {},
    ],
    [
      'stops taking intents, then leaves the gateway, when the lease is lost',
      reconciled,
      standby,
      { type: 'lease_lost' },
      [{ type: 'stop_taking_intents' }, { type: 'leave_gateway' }],
      {},
    ],
    [
      'stops taking intents when the session goes down',
      reconciled,
      heldNoSession,
      { type: 'gateway_state', state: 'disconnected' },
      [{ type: 'stop_taking_intents' }],
      {},
    ],
    [
      'stops taking intents while the session reconnects',
      reconciled,
      heldNoSession,
      { type: 'gateway_state', state: 'connecting' },
      [{ type: 'stop_taking_intents' }],
      {},
    ],
    [
      'does nothing more when the session is up',
      reconciled,
      held,
      { type: 'gateway_state', state: 'connected' },
      [],
      {},
    ],
    [
      'starts the first session as start',
      memory(),
      held,
      { type: 'session_ready', reconnect: false, accountProblems: [] },
      [{ type: 'start_session', trigger: 'start' }],
      {},
    ],
    [
      'starts a reconnected session as reconnect',
      reconciled,
      held,
      { type: 'session_ready', reconnect: true, accountProblems: [] },
      [{ type: 'start_session', trigger: 'reconnect' }],
      {},
    ],
    [
      'starts the session after a take-over as lease_acquired',
      memory({ tookOverLease: true }),
      held,
      { type: 'session_ready', reconnect: false, accountProblems: [] },
      [{ type: 'start_session', trigger: 'lease_acquired' }],
      {},
    ],
    [
      'starts a new session of a re-acquired lease as lease_acquired',
      reconciled,
      held,
      { type: 'session_ready', reconnect: false, accountProblems: [] },
      [{ type: 'start_session', trigger: 'lease_acquired' }],
      {},
    ],
    [
      'refuses to trade when the accounts do not match the mode',
      memory(),
      held,
      { type: 'session_ready', reconnect: false, accountProblems: ['DU1 is a paper account'] },
      [{ type: 'refuse_account', problems: ['DU1 is a paper account'] }],
      { refusedAccount: true },
    ],
    [
      'ignores a session that is ready after the lease went',
      memory(),
      { leaseHeld: false, gatewayReady: true },
      { type: 'session_ready', reconnect: false, accountProblems: [] },
      [],
      {},
    ],
    [
      'ignores a session that is ready while stopping',
      memory({ stopping: true }),
      held,
      { type: 'session_ready', reconnect: false, accountProblems: [] },
      [],
      {},
    ],
    [
      'remembers the first reconciliation',
      memory(),
      held,
      { type: 'session_reconciled' },
      [],
      { everReconciled: true },
    ],
    [
      'resyncs when the broker link comes back',
      reconciled,
      held,
      { type: 'broker_link', up: true },
      [{ type: 'resync_after_link' }],
      {},
    ],
    ['does nothing when the broker link goes', reconciled, held, { type: 'broker_link', up: false }, [], {}],
    [
      'does not resync before the first reconciliation',
      memory(),
      held,
      { type: 'broker_link', up: true },
      [],
      {},
    ],
    ['does not resync a standby', reconciled, standby, { type: 'broker_link', up: true }, [], {}],
    [
      'does not resync without a session',
      reconciled,
      heldNoSession,
      { type: 'broker_link', up: true },
      [],
      {},
    ],
    [
      'reconciles at once after a broker surprise',
      reconciled,
      held,
      { type: 'broker_surprise' },
      [{ type: 'reconcile_broker_event' }],
      {},
    ],
    [
      'leaves a surprise before the first reconciliation to it',
      memory(),
      held,
      { type: 'broker_surprise' },
      [],
      {},
    ],
    [
      'leaves a surprise without a session to the next one',
      reconciled,
      heldNoSession,
      { type: 'broker_surprise' },
      [],
      {},
    ],
    ['leaves a surprise of a standby alone', reconciled, standby, { type: 'broker_surprise' }, [], {}],
    ['remembers it is stopping', reconciled, held, { type: 'stopping' }, [], { stopping: true }],
  ])('%s', (_name, before, readings, event, actions, changed) => {
    const step = sessionStep(before, readings, event);
    expect(step.actions).toEqual(actions);
    expect(step.memory).toEqual({ ...before, ...changed });
  });

  it.each<[SessionMemory, SessionReadings, boolean]>([
    [reconciled, held, true],
    [reconciled, heldNoSession, false],
    [reconciled, { leaseHeld: false, gatewayReady: true }, false],
    [memory({ stopping: true }), held, false],
  ])('may trade with %o and %o: %s', (state, readings, expected) => {
    expect(mayTrade(state, readings)).toBe(expected);
  });

  it.each<[SessionMemory, SessionReadings, boolean]>([
    [memory(), standby, true],
    [memory(), held, true],
    [memory(), heldNoSession, false],
    [memory({ refusedAccount: true }), held, false],
    [memory({ refusedAccount: true }), standby, true],
  ])('health with %o and %o: %s', (state, readings, expected) => {
    expect(sessionHealthy(state, readings)).toBe(expected);
  });
});
