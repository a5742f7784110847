/**
 * Every gateway state against the simulated gateway, through the real @stoqey/ib (the supervisor's own
 * session and its readiness probe), the real NATS, and IBGA's log lines as the simulator writes them.
 * The state machine's clock is pinned to a Wednesday afternoon in New York (no reset window, no weekly
 * re-authentication), so the run does not depend on when CI runs; everything else is real time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '@ibstack/config';
import { type GatewayHealth, type GatewayStatus, topics } from '@ibstack/contracts';
import { type GatewaySim, startGatewaySim } from '@ibstack/gateway-sim';
import { createRegistry } from '@ibstack/observability';
import { createTestBus, eventually, silentLogger, type TestBus } from '@ibstack/test-kit';

import {
  createGatewaySupervisorService,
  type GatewaySupervisor,
  gatewaySupervisorChecks,
  gatewaySupervisorEnv,
} from '../../src';

// Each wait below may take up to 30 s on a busy machine (reconnect backoff reaches 15 s): room for several.
jest.setTimeout(120_000);

const WEDNESDAY_AFTERNOON = Date.UTC(2026, 2, 4, 20, 0, 0);
const SUPERVISOR_CLIENT_ID = 90;

let sim: GatewaySim;
let testBus: TestBus;
let supervisor: GatewaySupervisor;
let registry: ReturnType<typeof createRegistry>;
let dir: string;
/** A supervisor whose clock starts at `at` (epoch ms) and runs in real time from there; not started. */
let createSupervisorAt: (at: number) => void;
const published: GatewayHealth[] = [];

async function metric(name: string, labels = ''): Promise<number> {
  const text = await registry.metrics();
  const line = text
    .split('\n')
    .find((candidate) => candidate.startsWith(`${name}${labels ? `{${labels}` : ''}`));
  return line === undefined ? Number.NaN : Number(line.split(' ').at(-1));
}

const state = () => supervisor.health().state;

/**
 * Every GatewayHealth the supervisor published is the barrier: it publishes at every change, in order, so
 * a state that lasts only a moment (restored, a competing session held for a while, unreachable during a
 * refusal) is in the trail even when the machine is too busy to poll while it lasts. `reported` waits for
 * the next message, after the last one matched, that has the given fields.
 */
let cursor = 0;
const trail = () =>
  published.map((message) => `${message.state}${message.ready ? '+ready' : ''}`).join(' → ');
async function reported(expected: Partial<GatewayHealth>, timeoutMs = 30_000): Promise<GatewayHealth> {
  const index = await eventually(
    () => {
      const found = published.findIndex(
        (message, position) =>
          position >= cursor &&
          Object.entries(expected).every(
            ([key, value]) => (message as unknown as Record<string, unknown>)[key] === value,
          ),
      );
      if (found < 0) throw new Error(`no ${JSON.stringify(expected)} published yet; trail: ${trail()}`);
      return found;
    },
    { timeoutMs },
  );
  cursor = index + 1;
  return published[index]!;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ibstack-supervisor-'));
  const logFile = join(dir, 'ibga.log');
  sim = await startGatewaySim({
    port: 0,
    marketHours: 'always-open',
    logger: silentLogger(),
    ibgaLogFile: logFile,
  });
  testBus = await createTestBus();
  const config = loadConfig(
    'gateway-supervisor',
    gatewaySupervisorEnv,
    {
      NATS_URL: process.env.NATS_URL,
      BUS_NAMESPACE: testBus.namespace,
      HTTP_PORT: '0',
      IB_HOST: '127.0.0.1',
      IB_PORT: String(sim.port),
      IB_CLIENT_ID: String(SUPERVISOR_CLIENT_ID),
      PROBE_CLIENT_ID: '91',
      PROBE_INTERVAL_MS: '200',
      PROBE_TIMEOUT_MS: '5000',
      TICK_INTERVAL_MS: '50',
      LOG_POLL_INTERVAL_MS: '50',
      HEARTBEAT_INTERVAL_MS: '60000',
      DISCONNECT_GRACE_MS: '300',
      RESTORED_SETTLE_MS: '500',
      CONFLICT_HOLD_MS: '1500',
      IBGA_LOG_FILE: logFile,
      IB_LOGINTYPE: 'Paper Trading',
    },
    { checks: gatewaySupervisorChecks },
  );
  createSupervisorAt = (at) => {
    const realStart = Date.now();
    registry = createRegistry('gateway-supervisor', { defaultMetrics: false });
    supervisor = createGatewaySupervisorService(config, {
      logger: silentLogger(),
      registry,
      bus: testBus.bus,
      clock: () => at + (Date.now() - realStart),
    });
  };
  createSupervisorAt(WEDNESDAY_AFTERNOON);
  published.length = 0;
  cursor = 0;
  await testBus.bus.consume(topics.gatewayHealth, {
    durable: 'health-reader',
    handler: async (message) => {
      published.push(message);
      await Promise.resolve();
    },
  });
});

afterEach(async () => {
  await supervisor.stop();
  await sim.close();
  await testBus.destroy();
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway supervisor against the simulated gateway', () => {
  it('logged in: ready, the state metrics, and GatewayHealth on sys.gateway.health', async () => {
    await supervisor.start();
    const loggedIn = await reported({ state: 'logged_in', ready: true });
    expect(loggedIn.tradingMode).toBe('paper');
    expect(loggedIn.accounts).toEqual(['DU1234567']);
    expect(supervisor.health().accounts).toEqual(['DU1234567']);
    expect(await metric('gateway_state', 'state="logged_in"')).toBe(1);
    expect(await metric('gateway_state', 'state="logged_out"')).toBe(0);
    expect(await metric('gateway_ready')).toBe(1);
    expect(await metric('gateway_in_reset_window')).toBe(0);
    expect(await metric('gateway_two_factor_pending_seconds')).toBe(0);
    expect(await metric('gateway_probe_duration_seconds_count')).toBeGreaterThan(0);
    expect(await metric('gateway_last_probe_unix')).toBeGreaterThan(WEDNESDAY_AFTERNOON / 1000);
    expect(published.every((message) => message.tradingMode === 'paper')).toBe(true);
  });

  it('logged out, then two-factor pending (from the log), then logged in again: one login', async () => {
    await supervisor.start();
    await reported({ state: 'logged_in', ready: true });
    sim.faults.setLogin('logged_out');
    await reported({ state: 'logged_out', ready: false });
    sim.faults.setLogin('two_factor_pending');
    await reported({ state: 'two_factor_pending', ready: false });
    await eventually(async () =>
      expect(await metric('gateway_two_factor_pending_seconds')).toBeGreaterThan(0.2),
    );
    expect(await metric('gateway_ready')).toBe(0);
    // Probes keep failing while 2FA waits (two more of them ran): the state stays.
    const probesBefore = await metric('gateway_probe_duration_seconds_count');
    await eventually(
      async () =>
        expect(await metric('gateway_probe_duration_seconds_count')).toBeGreaterThan(probesBefore + 1),
      { timeoutMs: 30_000 },
    );
    expect({ state: state(), trail: trail() }).toMatchObject({ state: 'two_factor_pending' });
    sim.faults.setLogin('logged_in');
    await reported({ state: 'logged_in', ready: true });
    expect(await metric('gateway_logins_total')).toBe(1);
    expect(await metric('gateway_last_login_unix')).toBeGreaterThan(WEDNESDAY_AFTERNOON / 1000);
    expect(await metric('gateway_two_factor_pending_seconds')).toBe(0);
  });

  it('a login IBGA reports as failed: logged out with its line', async () => {
    await supervisor.start();
    await reported({ state: 'logged_in' });
    sim.faults.setLogin('logged_out', 'Invalid username or password');
    await reported({ state: 'logged_out', detail: 'login failed: Invalid username or password' });
    expect(supervisor.health()).toMatchObject({
      state: 'logged_out',
      detail: 'login failed: Invalid username or password',
    });
  });

  it('broker disconnected (1100, 2110), escalated past the grace, restored with data lost (1101) or kept (1102)', async () => {
    await supervisor.start();
    await reported({ state: 'logged_in' });
    sim.faults.brokerLink({ up: false, code: 1100 });
    await reported({ state: 'broker_disconnected', code: 1100, escalated: false });
    // The link stays down until the test brings it up: escalation and its metric are stable here.
    await reported({ state: 'broker_disconnected', code: 1100, escalated: true });
    expect(await metric('gateway_disconnect_escalated')).toBe(1);
    sim.faults.brokerLink({ up: true, dataLost: true });
    await reported({ state: 'restored_data_lost', code: 1101, escalated: false });
    await reported({ state: 'logged_in' });
    sim.faults.brokerLink({ up: false, code: 2110 });
    await reported({ state: 'broker_disconnected', code: 2110 });
    sim.faults.brokerLink({ up: true });
    await reported({ state: 'restored_data_kept', code: 1102 });
    await reported({ state: 'logged_in' });
    // None of it is a new login.
    expect(await metric('gateway_logins_total')).toBe(0);
  });

  it("competing session: from IBGA's log, and from 10197 another service reports", async () => {
    await supervisor.start();
    await reported({ state: 'logged_in', ready: true });
    sim.faults.competingSession(true);
    await reported({ state: 'competing_session', detail: 'existing session detected' });
    // Nobody reports it again: it clears after the hold time.
    await reported({ state: 'logged_in' });
    const status: GatewayStatus = {
      v: 1,
      service: 'ingestor',
      state: 'connected',
      host: '127.0.0.1',
      port: sim.port,
      clientId: 20,
      code: 10197,
      message: 'No market data during competing live session',
      ts: new Date().toISOString(),
    };
    await testBus.bus.publish(topics.gatewayStatus, status);
    await reported({
      state: 'competing_session',
      code: 10197,
      detail: 'ingestor: No market data during competing live session',
    });
  });

  it('client id in use (326) for its own session, until the id is free again', async () => {
    sim.faults.holdClientId(SUPERVISOR_CLIENT_ID, true);
    await supervisor.start();
    await reported({ state: 'client_id_in_use', code: 326 });
    sim.faults.holdClientId(SUPERVISOR_CLIENT_ID, false);
    await reported({ state: 'logged_in' });
  });

  it('unreachable while the port refuses connections; the probe fails, nothing restarts', async () => {
    await supervisor.start();
    await reported({ state: 'logged_in', ready: true });
    // Refused until the supervisor has said so, however long a busy machine takes to notice.
    sim.faults.refuseConnections(600_000);
    sim.faults.dropAllConnections();
    await reported({ state: 'unreachable', ready: false });
    expect(await metric('gateway_ready')).toBe(0);
    await sim.faults.acceptConnections();
    // The same gateway answers again: the supervisor reconnects by itself, nothing was restarted.
    await reported({ state: 'logged_in', ready: true });
    expect(await metric('gateway_ready')).toBe(1);
  });

  it('not logged in again after the Sunday deadline: re-authentication overdue, until a login', async () => {
    // Sunday 2026-03-01 18:00 New York: past IBKR's 01:00 token reset and the 17:00 deadline.
    createSupervisorAt(Date.UTC(2026, 2, 1, 23, 0, 0));
    sim.faults.setLogin('logged_out');
    await supervisor.start();
    await reported({ state: 'reauthentication_overdue', ready: false });
    sim.faults.setLogin('logged_in');
    await reported({ state: 'logged_in', ready: true });
    expect(await metric('gateway_logins_total')).toBe(1);
  });

  it('a disconnect inside a reset window is expected: in the window, never escalated', async () => {
    // Wednesday 2026-03-04 00:30 New York: inside the daily reset (00:15–01:45).
    createSupervisorAt(Date.UTC(2026, 2, 4, 5, 30, 0));
    await supervisor.start();
    await reported({ state: 'logged_in', inResetWindow: true });
    sim.faults.brokerLink({ up: false, code: 1100 });
    await reported({ state: 'broker_disconnected', code: 1100, inResetWindow: true, escalated: false });
    // The barrier: the state machine has run a tick more than three grace periods (300 ms) into the
    // disconnect, and every tick decides escalation; outside a window it would have escalated by now.
    await eventually(async () => {
      expect(state()).toBe('broker_disconnected');
      expect(await metric('gateway_state_duration_seconds')).toBeGreaterThan(1);
    });
    expect(supervisor.health()).toMatchObject({ escalated: false, inResetWindow: true });
    expect(published.some((message) => message.escalated)).toBe(false);
    expect(await metric('gateway_disconnect_escalated')).toBe(0);
    expect(await metric('gateway_in_reset_window')).toBe(1);
  });
});
