// Shared test helpers: a simulator on a free port with a fixed start time (a Tuesday afternoon in New York,
// so nothing depends on the weekday of the machine running the tests), and `@stoqey/ib` clients that
// record what they receive.
import { type Contract, ConnectionState, EventName, IBApi, IBApiNext, SecType } from '@stoqey/ib';
import { createRegistry } from '@ibstack/observability';
import { eventually, silentLogger } from '@ibstack/test-kit';

import { type GatewaySim, type GatewaySimOptions, startGatewaySim } from '../../src';

/** Tuesday 3 March 2026, 10:00 New York. */
export const TUESDAY_MORNING = '2026-03-03T15:00:00.000Z';

export async function startTestSim(options: GatewaySimOptions = {}): Promise<GatewaySim> {
  return startGatewaySim({
    port: 0,
    startTime: TUESDAY_MORNING,
    marketHours: 'always-open',
    logger: silentLogger('gateway-sim'),
    registry: createRegistry('test', { defaultMetrics: false }),
    tickIntervalMs: 20,
    ...options,
  });
}

export interface RecordedError {
  code: number;
  id: number;
  message: string;
}

/** An `IBApi` client that keeps every error and notice it receives. */
export class RecordingClient {
  readonly api: IBApi;
  readonly errors: RecordedError[] = [];
  readonly infos: Array<{ code: number; message: string }> = [];
  nextValidId = 0;
  serverVersion = 0;
  disconnects = 0;

  constructor(port: number) {
    this.api = new IBApi({ host: '127.0.0.1', port });
    this.api.on(EventName.error, (error: Error, code: number, id: number) =>
      this.errors.push({ code, id, message: error.message }),
    );
    this.api.on(EventName.info, (message: string, code: number) => this.infos.push({ code, message }));
    this.api.on(EventName.nextValidId, (id: number) => (this.nextValidId = id));
    this.api.on(EventName.server, (version: number) => (this.serverVersion = version));
    this.api.on(EventName.disconnected, () => (this.disconnects += 1));
  }

  /** Errors the client raised itself while decoding (505): there must never be any. */
  decodingErrors(): RecordedError[] {
    return this.errors.filter(
      (error) => error.code === 505 || /Underrun|unprocessed data|No parser/.test(error.message),
    );
  }

  errorCodes(): number[] {
    return this.errors.map((error) => error.code);
  }

  async connect(clientId: number): Promise<this> {
    this.nextValidId = 0;
    this.api.connect(clientId);
    await eventually(() => expect(this.nextValidId).toBeGreaterThan(0), { timeoutMs: 5_000 });
    return this;
  }

  disconnect(): void {
    if (this.api.isConnected) this.api.disconnect();
  }
}

export async function connectClient(sim: GatewaySim, clientId: number): Promise<RecordingClient> {
  return new RecordingClient(sim.port).connect(clientId);
}

/** `IBApiNext` without console logging. */
export function createApiNext(port: number, options: { reconnectInterval?: number } = {}): IBApiNext {
  const quiet = {
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    debug: () => undefined,
  };
  return new IBApiNext({ host: '127.0.0.1', port, logger: quiet, ...options });
}

export async function connectApiNext(port: number, clientId: number): Promise<IBApiNext> {
  const api = createApiNext(port);
  let state = ConnectionState.Disconnected;
  const subscription = api.connectionState.subscribe((value) => (state = value));
  api.connect(clientId);
  await eventually(() => expect(state).toBe(ConnectionState.Connected), { timeoutMs: 5_000 });
  subscription.unsubscribe();
  return api;
}

/** Waits until `predicate` holds for the list, returning it. */
export async function waitFor<T>(
  items: T[],
  predicate: (items: T[]) => boolean,
  timeoutMs = 10_000,
): Promise<T[]> {
  await eventually(() => expect(predicate(items)).toBe(true), { timeoutMs });
  return items;
}

export function forex(pair: string): Contract {
  const [symbol, currency] = pair.split('.') as [string, string];
  return { symbol, secType: SecType.CASH, currency, exchange: 'IDEALPRO' };
}

export function stock(symbol: string): Contract {
  return { symbol, secType: SecType.STK, currency: 'USD', exchange: 'SMART' };
}
