/**
 * The readiness probe: a real API handshake with its own client id, then reqCurrentTime (packages/ib's
 * healthcheck), read as a session fact. It only ever alerts: a restart on a failed probe would cost the
 * gateway its soft-restart token and ask for 2FA again.
 */
import { type HealthcheckResult, runHealthcheck } from '@ibstack/ib';

import type { GatewayEvent, ProbeFailure } from '../domain/session-state';

export function probeFailure(result: HealthcheckResult): ProbeFailure | undefined {
  const failure = result.failure;
  if (result.ok || !failure) return undefined;
  if (failure.code === 326) return 'client_id_in_use';
  if (failure.code === 1100 || failure.code === 2110) return 'broker_disconnected';
  if (failure.how === 'error') return failure.code === 502 ? 'unreachable' : 'no_session';
  if (failure.how === 'timeout' && failure.stage === 'connecting') return 'unreachable';
  if (failure.stage === 'currentTime') return 'no_answer';
  // Closed by the peer, or silent, before the API session started: nothing logged in behind the port.
  return 'no_session';
}

export async function probeGateway(options: {
  host: string;
  port: number;
  clientId: number;
  timeoutMs: number;
  now: () => number;
}): Promise<Extract<GatewayEvent, { type: 'probe' }>> {
  const result = await runHealthcheck(options);
  return {
    type: 'probe',
    at: options.now(),
    ok: result.ok,
    latencyMs: result.elapsedMs,
    failure: probeFailure(result),
    detail: result.reason,
  };
}
