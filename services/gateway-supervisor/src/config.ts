import {
  commonEnv,
  type ConfigCheck,
  gatewayEnv,
  jsonSetting,
  milliseconds,
  port,
  tradingModeCheck,
  tradingModeEnv,
} from '@ibstack/config';
import { z } from 'zod';

import { DEFAULT_LOG_PATTERNS, LogPattern } from './domain/log-lines';
import { DEFAULT_RESET_WINDOWS, ResetWindowTable, ServerRegion } from './domain/reset-windows';

/** The gateway supervisor's environment; every default fits the simulated gateway and IBGA alike. */
export const gatewaySupervisorEnv = commonEnv
  .pick({ LOG_LEVEL: true, NATS_URL: true, NATS_REPLICAS: true, BUS_NAMESPACE: true })
  .extend(gatewayEnv.shape)
  .extend(tradingModeEnv.shape)
  .extend({
    /** @default 9406 */
    HTTP_PORT: port.default(9406),
    /** Its own persistent session, which hears the gateway's codes (1100, 1101, 1102, 2110, 326). @default 90 */
    IB_CLIENT_ID: z.coerce.number({ error: 'must be an integer' }).int().min(0).default(90),
    /** The readiness probe's client id, never used by anything else. @default 91 */
    PROBE_CLIENT_ID: z.coerce.number({ error: 'must be an integer' }).int().min(0).default(91),
    /** @default 30000 */
    PROBE_INTERVAL_MS: milliseconds(30_000, 100),
    /** @default 10000 */
    PROBE_TIMEOUT_MS: milliseconds(10_000, 100),
    /** IBGA's log copied by the gateway's entrypoint (a shared volume); unset: no log watching. */
    IBGA_LOG_FILE: z.string().min(1).optional(),
    /** @default 1000 */
    LOG_POLL_INTERVAL_MS: milliseconds(1_000, 10),
    /** Region of the account's IBKR servers, which decides the reset windows. @default north_america */
    SERVER_REGION: ServerRegion.default('north_america'),
    /** Reset windows per region replacing the built-in ones for the regions given (JSON). */
    RESET_WINDOWS_JSON: jsonSetting(
      ResetWindowTable,
      '{"north_america":[{"name":"daily reset","days":["mon"],"start":"00:15","end":"01:45","zone":"America/New_York"}]}',
    ),
    /** Extra IBGA log lines and the state each means, checked before the built-in ones (JSON). */
    GATEWAY_LOG_PATTERNS_JSON: jsonSetting(
      z.array(LogPattern),
      '[{"contains":"Second Factor Authentication initiated","state":"two_factor_pending"}]',
    ),
    /** Sunday hour (New York) by which the weekly re-authentication must be done. @default 17 */
    WEEKLY_REAUTH_DEADLINE_HOUR: z.coerce.number().int().min(2).max(23).default(17),
    /** A broker disconnect outside the reset windows is escalated after this. @default 120000 */
    DISCONNECT_GRACE_MS: milliseconds(120_000, 0),
    /** A restored link counts as logged in after this. @default 60000 */
    RESTORED_SETTLE_MS: milliseconds(60_000, 0),
    /** A conflict reported by others clears after this without a new report. @default 300000 */
    CONFLICT_HOLD_MS: milliseconds(300_000, 0),
    /** How often the health is published even when nothing changed. @default 30000 */
    HEARTBEAT_INTERVAL_MS: milliseconds(30_000, 100),
    /** @default 1000 */
    TICK_INTERVAL_MS: milliseconds(1_000, 10),
    /** IBGA's login type, when the gateway is IBGA: must agree with TRADING_MODE. */
    IB_LOGINTYPE: z
      .enum(['Paper Trading', 'Live Trading'], {
        error: 'must be exactly "Paper Trading" or "Live Trading" (IBGA\'s values)',
      })
      .optional(),
  });
export type GatewaySupervisorConfig = z.infer<typeof gatewaySupervisorEnv>;

/** A paper login under live mode, or the reverse, is a configuration error. */
const loginTypeCheck: ConfigCheck = (env) => {
  const login = env.IB_LOGINTYPE;
  if (!login) return [];
  const mode = (env.TRADING_MODE ?? 'paper').trim().toLowerCase();
  const expected = mode === 'live' ? 'Live Trading' : 'Paper Trading';
  return login === expected || (login !== 'Paper Trading' && login !== 'Live Trading')
    ? []
    : [
        `IB_LOGINTYPE: "${login}" disagrees with TRADING_MODE=${mode} (use "${expected}", or change TRADING_MODE)`,
      ];
};

const distinctClientIds: ConfigCheck = (env) =>
  (env.PROBE_CLIENT_ID ?? '91') === (env.IB_CLIENT_ID ?? '90')
    ? ['PROBE_CLIENT_ID: must differ from IB_CLIENT_ID (the gateway allows each client id once)']
    : [];

export const gatewaySupervisorChecks: readonly ConfigCheck[] = [
  tradingModeCheck,
  loginTypeCheck,
  distinctClientIds,
];

export function resetWindowsOf(config: GatewaySupervisorConfig): ResetWindowTable {
  return { ...DEFAULT_RESET_WINDOWS, ...(config.RESET_WINDOWS_JSON ?? {}) };
}

export function logPatternsOf(config: GatewaySupervisorConfig): LogPattern[] {
  return [...(config.GATEWAY_LOG_PATTERNS_JSON ?? []), ...DEFAULT_LOG_PATTERNS];
}
