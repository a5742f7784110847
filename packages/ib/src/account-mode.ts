import type { TradingMode } from '@ibstack/config';

/** IB paper accounts start with DU (individual) or DF (advisor); anything else is live. */
export function isPaperAccount(account: string): boolean {
  return /^D[UF]/.test(account);
}

/** The usual gateway/TWS ports; a mismatch with the mode is refused rather than guessed. */
export const LIVE_PORTS: ReadonlySet<number> = new Set([4001, 7496]);
export const PAPER_PORTS: ReadonlySet<number> = new Set([4002, 7497]);

/**
 * Safety check run when the gateway reports its accounts: paper mode must see only paper accounts, and
 * live mode only live ones. Returns the problems; empty means the pair agrees.
 */
export function checkAccountsMatchMode(mode: TradingMode, accounts: readonly string[]): string[] {
  if (accounts.length === 0) return ['the gateway reported no managed accounts'];
  const wrong = accounts.filter((account) => isPaperAccount(account) !== (mode === 'paper'));
  if (wrong.length === 0) return [];
  return [
    mode === 'paper'
      ? `TRADING_MODE is paper but the gateway is logged in to live account(s) ${wrong.join(', ')}: refusing to trade`
      : `TRADING_MODE is live but the gateway is logged in to paper account(s) ${wrong.join(', ')}: refusing to trade`,
  ];
}

/** A live port in paper mode (or the reverse) is refused at start. */
export function checkPortMatchesMode(mode: TradingMode, port: number): string[] {
  if (mode === 'paper' && LIVE_PORTS.has(port)) {
    return [
      `IB_PORT ${port} is a live gateway port but TRADING_MODE is paper; use 4002 (gateway) or 7497 (TWS)`,
    ];
  }
  if (mode === 'live' && PAPER_PORTS.has(port)) {
    return [
      `IB_PORT ${port} is a paper gateway port but TRADING_MODE is live; use 4001 (gateway) or 7496 (TWS)`,
    ];
  }
  return [];
}
