import { z } from 'zod';

/**
 * The exact value `LIVE_TRADING_CONFIRMATION` must hold for live mode. Long and explicit on purpose:
 * no default, no `true`, nothing one sets by accident.
 */
export const LIVE_CONFIRMATION_PHRASE = 'I-ACCEPT-REAL-ORDERS-WITH-REAL-MONEY';

export const TradingMode = z.enum(['paper', 'live']);
export type TradingMode = z.infer<typeof TradingMode>;

export const tradingModeEnv = z.object({
  /** `paper` (default) or `live`. Live also needs LIVE_TRADING_CONFIRMATION. */
  TRADING_MODE: z.string().optional(),
  LIVE_TRADING_CONFIRMATION: z.string().optional(),
});

/**
 * Live mode needs `TRADING_MODE=live` and the confirmation phrase; anything else is paper. A half-set
 * live configuration (one of the two) is an error rather than a silent fallback, because an operator who
 * typed `live` believes they are live.
 */
export function resolveTradingMode(env: {
  TRADING_MODE?: string | undefined;
  LIVE_TRADING_CONFIRMATION?: string | undefined;
}): { ok: true; mode: TradingMode } | { ok: false; problems: string[] } {
  const mode = (env.TRADING_MODE ?? 'paper').trim().toLowerCase();
  const confirmation = env.LIVE_TRADING_CONFIRMATION;
  if (mode !== 'paper' && mode !== 'live') {
    return { ok: false, problems: [`TRADING_MODE: must be "paper" or "live" (got "${env.TRADING_MODE}")`] };
  }
  if (mode === 'paper') {
    if (confirmation)
      return {
        ok: false,
        problems: [
          'LIVE_TRADING_CONFIRMATION: is set while TRADING_MODE is paper; unset it or set TRADING_MODE=live',
        ],
      };
    return { ok: true, mode: 'paper' };
  }
  if (confirmation !== LIVE_CONFIRMATION_PHRASE) {
    return {
      ok: false,
      problems: [
        `LIVE_TRADING_CONFIRMATION: live mode requires LIVE_TRADING_CONFIRMATION=${LIVE_CONFIRMATION_PHRASE}`,
      ],
    };
  }
  return { ok: true, mode: 'live' };
}

/** A `loadConfig` check for schemas that include `tradingModeEnv`. */
export const tradingModeCheck = (env: Readonly<Record<string, string | undefined>>): string[] => {
  const result = resolveTradingMode(env);
  return result.ok ? [] : result.problems;
};
