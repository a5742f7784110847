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
      // The start may have read the account before the link dropped: the resync queues behind it.
      'resyncs when the link comes back while the first session is still starting',
      memory(),
      held,
      { type: 'broker_link', up: true },
      [{ type: 'resync_after_link' }],
      {},
    ],
    [
      'does not resync a session that refused the account',
      memory({ refusedAccount: true }),
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

  it.each<[string, SessionMemory, SessionReadings, boolean]>([
    ['trades with the lease and a ready session', reconciled, held, true],
    ['does not trade without a session', reconciled, heldNoSession, false],
    ['does not trade without the lease', reconciled, { leaseHeld: false, gatewayReady: true }, false],
    ['does not trade while stopping', memory({ stopping: true }), held, false],
  ])('%s', (_name, state, readings, expected) => {
    expect(mayTrade(state, readings)).toBe(expected);
  });

  it.each<[string, SessionMemory, SessionReadings, boolean]>([
    ['reports a standby healthy (it can take over)', memory(), standby, true],
    ['reports a holder with a ready session healthy', memory(), held, true],
    ['reports a holder without a session unhealthy', memory(), heldNoSession, false],
    ['reports a holder that refused the account unhealthy', memory({ refusedAccount: true }), held, false],
    [
      'reports a standby healthy even after a refused account',
      memory({ refusedAccount: true }),
      standby,
      true,
    ],
  ])('%s', (_name, state, readings, expected) => {
    expect(sessionHealthy(state, readings)).toBe(expected);
  });
});
