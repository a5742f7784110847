/**
 * Cash reconciliation: the broker's cash per account and currency against what our executions explain.
 * Pure: `(broker cash, our executions' totals, baselines) → mismatches`.
 *
 * Invariants checked:
 * - in every account with a baseline, every currency's cash at the broker equals the baseline's broker
 *   cash plus the cash our executions moved since it (`effect now − effect at the baseline`), within the
 *   currency's tolerance (absolute, in that currency);
 * - an execution moves cash by −quantity × price in the instrument's currency for a buy (+ for a sell), by
 *   +quantity in the base currency of a currency pair (CASH) for a buy (− for a sell), and by −commission in
 *   the commission's currency. Corrected (superseded) executions are the caller's to leave out.
 * An account without a baseline is not compared: the caller records one. So is an account whose effect
 * cannot be computed now (an instrument we do not know, a commission still on its way).
 */
import type { ReconciliationMismatch } from '@ibstack/contracts';
import Decimal from 'decimal.js';

/** One account's amount in one currency (decimal string). */
export interface CashAmount {
  account: string;
  currency: string;
  amount: string;
}

/** Our executions of one instrument and side in one account, summed. */
export interface ExecutionTotals {
  account: string;
  instrument: string;
  side: 'BUY' | 'SELL';
  /** Sum of quantities. */
  quantity: string;
  /** Sum of quantity × price, in the instrument's currency. */
  notional: string;
}

/** What the cash effect of an instrument depends on. */
export interface CashInstrument {
  secType: string;
  /** The base currency for a currency pair (`EUR` of EUR.CAD). */
  symbol: string;
  /** The currency prices are quoted in. */
  currency: string;
}

export interface CashBaseline {
  account: string;
  currency: string;
  brokerCash: string;
  executionsEffect: string;
  recordedAt?: Date;
}

export interface CashTolerance {
  default: string;
  byCurrency: Readonly<Record<string, string>>;
}

const key = (account: string, currency: string) => `${account}\u0000${currency}`;

/**
 * The cash our executions moved, per account and currency, from their totals and their commissions.
 * Accounts with an execution of an instrument `instrumentOf` does not know come back in `unknown`.
 */
export function executionsCashEffect(
  trades: readonly ExecutionTotals[],
  commissions: readonly CashAmount[],
  instrumentOf: (key: string) => CashInstrument | undefined,
): { effects: CashAmount[]; unknown: Map<string, string[]> } {
  const totals = new Map<string, { account: string; currency: string; amount: Decimal }>();
  const add = (account: string, currency: string, amount: Decimal.Value) => {
    const entry = totals.get(key(account, currency)) ?? { account, currency, amount: new Decimal(0) };
    entry.amount = entry.amount.add(amount);
    totals.set(key(account, currency), entry);
  };
  const unknown = new Map<string, string[]>();
  for (const trade of trades) {
    const instrument = instrumentOf(trade.instrument);
    if (!instrument) {
      unknown.set(trade.account, [...(unknown.get(trade.account) ?? []), trade.instrument]);
      continue;
    }
    const sign = trade.side === 'BUY' ? 1 : -1;
    add(trade.account, instrument.currency, new Decimal(trade.notional).mul(-sign));
    if (instrument.secType === 'CASH')
      add(trade.account, instrument.symbol, new Decimal(trade.quantity).mul(sign));
  }
  for (const commission of commissions)
    add(commission.account, commission.currency, new Decimal(commission.amount).neg());
  return {
    effects: [...totals.values()].map((entry) => ({
      account: entry.account,
      currency: entry.currency,
      amount: entry.amount.toFixed(),
    })),
    unknown,
  };
}

export interface CashComparison {
  /** Each with the account it is about. */
  mismatches: Array<{ account: string; mismatch: ReconciliationMismatch }>;
  /** Comparable accounts that have no baseline yet: the caller records one. */
  withoutBaseline: string[];
  /** What a baseline taken now holds, per account and currency. */
  current: CashBaseline[];
}

export function compareCash(input: {
  broker: readonly CashAmount[];
  effects: readonly CashAmount[];
  baselines: readonly CashBaseline[];
  tolerance: CashTolerance;
  /** Accounts not comparable now, with why. */
  skip?: ReadonlyMap<string, string>;
}): CashComparison {
  const brokerCash = new Map(input.broker.map((row) => [key(row.account, row.currency), row.amount]));
  const effect = new Map(input.effects.map((row) => [key(row.account, row.currency), row.amount]));
  const baseline = new Map(input.baselines.map((row) => [key(row.account, row.currency), row]));
  const brokerAccounts = new Set(input.broker.map((row) => row.account));
  const accounts = new Set([...brokerAccounts, ...input.effects.map((row) => row.account)]);

  const result: CashComparison = { mismatches: [], withoutBaseline: [], current: [] };
  for (const account of [...accounts].sort()) {
    // An account the broker reports no cash for at all cannot be compared (nor given a baseline).
    if (!brokerAccounts.has(account) || input.skip?.has(account)) continue;
    const currencies = new Set(
      [...brokerCash.keys(), ...effect.keys(), ...baseline.keys()]
        .filter((entry) => entry.startsWith(`${account}\u0000`))
        .map((entry) => entry.slice(account.length + 1)),
    );
    const hasBaseline = input.baselines.some((row) => row.account === account);
    for (const currency of [...currencies].sort()) {
      const now = new Decimal(brokerCash.get(key(account, currency)) ?? 0);
      const effectNow = new Decimal(effect.get(key(account, currency)) ?? 0);
      result.current.push({
        account,
        currency,
        brokerCash: now.toFixed(),
        executionsEffect: effectNow.toFixed(),
      });
      if (!hasBaseline) continue;
      // A currency the baseline has no row for held no cash and saw no execution of ours then.
      const base = baseline.get(key(account, currency));
      const moved = effectNow.minus(base?.executionsEffect ?? 0);
      const expected = new Decimal(base?.brokerCash ?? 0).add(moved);
      const difference = now.minus(expected);
      const tolerance = new Decimal(input.tolerance.byCurrency[currency] ?? input.tolerance.default);
      if (difference.abs().lte(tolerance)) continue;
      const since = base?.recordedAt ? ` of ${base.recordedAt.toISOString()}` : '';
      result.mismatches.push({
        account,
        mismatch: {
          kind: 'cash_balance',
          local: `${expected.toFixed()} ${currency}`,
          broker: `${now.toFixed()} ${currency}`,
          detail:
            `${currency} cash of ${account} is ${now.toFixed()} at the broker; the baseline${since} ` +
            `(${base?.brokerCash ?? '0'}) and our executions since (${moved.toFixed()}) explain ` +
            `${expected.toFixed()}: off by ${difference.toFixed()}, over the tolerance of ${tolerance.toFixed()}`,
        },
      });
    }
    if (!hasBaseline) result.withoutBaseline.push(account);
  }
  return result;
}
