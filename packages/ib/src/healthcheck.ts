/**
 * A gateway healthcheck that a real API client would pass: TCP connect, the API handshake, startApi up to
 * nextValidId, then a reqCurrentTime answered. Works against IBGA and the simulated gateway alike; it is
 * the compose healthcheck of the gateway container.
 */
import { EventName, IBApi } from '@stoqey/ib';

export interface HealthcheckOptions {
  host: string;
  port: number;
  /** Whole check, connect to answer. @default 5000 */
  timeoutMs?: number;
  /**
   * A client id no trading service uses: the check connects every few seconds, and a clash with a live
   * session would be refused with 326. @default a random id in 900000–999999
   */
  clientId?: number;
}

export interface HealthcheckResult {
  ok: boolean;
  /** One line that says why. */
  reason: string;
  /** Where a failed check stopped, and how: the gateway supervisor reads the session state from it. */
  failure?: { stage: Stage; how: 'error' | 'notice' | 'closed' | 'timeout'; code?: number };
  serverVersion?: number;
  /** Gateway time from reqCurrentTime, epoch seconds. */
  gatewayTime?: number;
  elapsedMs: number;
}

export type Stage = 'connecting' | 'handshake' | 'nextValidId' | 'currentTime';

export function runHealthcheck(options: HealthcheckOptions): Promise<HealthcheckResult> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const clientId = options.clientId ?? 900_000 + Math.floor(Math.random() * 100_000);
  const started = Date.now();
  const api = new IBApi({ host: options.host, port: options.port });
  let stage: Stage = 'connecting';
  let serverVersion: number | undefined;
  return new Promise<HealthcheckResult>((resolve) => {
    let settled = false;
    const finish = (
      ok: boolean,
      reason: string,
      gatewayTime?: number,
      failure?: HealthcheckResult['failure'],
    ) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      api.removeAllListeners();
      // The client emits 'error' as an event; keep a listener so a late socket error cannot throw.
      api.on(EventName.error, () => undefined);
      try {
        api.disconnect();
      } catch {
        // Already closed.
      }
      resolve({ ok, reason, failure, serverVersion, gatewayTime, elapsedMs: Date.now() - started });
    };
    const timer = setTimeout(
      () =>
        finish(false, `no answer within ${timeoutMs} ms (stuck at ${stage})`, undefined, {
          stage,
          how: 'timeout',
        }),
      timeoutMs,
    );
    api.on(EventName.connected, () => (stage = 'handshake'));
    api.on(EventName.server, (version: number) => {
      serverVersion = version;
      stage = 'nextValidId';
    });
    api.on(EventName.nextValidId, () => {
      if (stage === 'currentTime') return;
      stage = 'currentTime';
      api.reqCurrentTime();
    });
    api.on(EventName.currentTime, (time: number) =>
      finish(
        true,
        `API handshake and reqCurrentTime answered (server version ${serverVersion ?? '?'})`,
        time,
      ),
    );
    api.on(EventName.error, (error: Error, code: number) => {
      // 502: connect failed (refused, reset); 506: unsupported version; 503/504: not connected.
      if ([502, 503, 504, 506, 507].includes(code))
        finish(false, `error ${code} at ${stage}: ${error.message}`, undefined, {
          stage,
          how: 'error',
          code,
        });
    });
    api.on(EventName.info, (message: string, code: number) => {
      if (code === 326 || code === 1100 || code === 2110)
        finish(false, `gateway says ${code}: ${message}`, undefined, { stage, how: 'notice', code });
    });
    api.on(EventName.disconnected, () =>
      finish(false, `connection closed at ${stage}`, undefined, { stage, how: 'closed' }),
    );
    api.connect(clientId);
  });
}
