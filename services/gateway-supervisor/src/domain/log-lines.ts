/**
 * IBGA's log lines that say something about the session (verbatim from IBGA's scripts), and the state each
 * one means. Operators can add patterns (GATEWAY_LOG_PATTERNS_JSON); a pattern naming a state that does
 * not exist is a configuration error, never a silently ignored line.
 */
import { GatewaySessionState } from '@ibstack/contracts';
import { z } from 'zod';

export const LogPattern = z
  .object({
    /** Text the line contains (case-insensitive). */
    contains: z.string().min(1),
    state: GatewaySessionState,
    detail: z.string().optional(),
  })
  .strict();
export type LogPattern = z.infer<typeof LogPattern>;

export const DEFAULT_LOG_PATTERNS: readonly LogPattern[] = [
  { contains: 'waiting for two-factor authentication', state: 'two_factor_pending' },
  {
    contains: 'IB Gateway is no longer running, will restart',
    state: 'logged_out',
    detail: 'IB Gateway restarting',
  },
  {
    contains: 'token expired detected',
    state: 'logged_out',
    detail: 'security tokens expired: logging in again (weekly re-authentication)',
  },
  { contains: 'existing session detected', state: 'competing_session' },
  { contains: 'login failed', state: 'logged_out' },
  { contains: 'cannot continue due to fatal error', state: 'logged_out' },
];

/** The first pattern the line matches, or undefined (most of IBGA's output is noise). */
export function matchLogLine(patterns: readonly LogPattern[], line: string): LogPattern | undefined {
  const lower = line.toLowerCase();
  return patterns.find((pattern) => lower.includes(pattern.contains.toLowerCase()));
}
