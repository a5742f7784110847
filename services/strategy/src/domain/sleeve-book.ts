import { type OrderSide, parseExecId, TERMINAL_ORDER_STATUSES } from '@ibstack/contracts';
import { type FxRatesToUsd, signedQuantity, toUsd } from '@ibstack/risk';
import Decimal from 'decimal.js';

/**
 * The strategy's own book: each sleeve's positions and P&L from its fills, and the quantities of its
 * orders still in flight. Pure state; the service feeds it from Postgres at start and from the bus after.
 *
 * Invariants:
 * - A fill counts once per execution: a repeated exec id is ignored (except that a commission it brings
 *   late replaces the one counted), and a correction (same id up to the last dot, higher revision)
 *   replaces what the corrected fill contributed.
 * - An intent's in-flight quantity is its ordered quantity less what has filled, until a terminal order
 *   event; then only fills the terminal event reported but the book has not seen yet stay in flight.
 */

export interface BookFill {
  execId: string;
  sleeve: string;
  instrument: string;
  side: OrderSide;
  quantity: string;
  price: string;
  commission?: string | undefined;
  commissionCurrency?: string | undefined;
  intentId?: string | undefined;
}

interface CountedFill {
  execId: string;
  revision: number;
  sleeve: string;
  instrument: string;
  quantity: Decimal;
  /** Quote-currency cash the fill moved: −signed quantity × price. */
  cash: Decimal;
  commission: Decimal;
  commissionCurrency: string | undefined;
  intentId: string | undefined;
}

interface Holding {
  quantity: Decimal;
  cash: Decimal;
  /** Commissions by currency. */
  commissions: Map<string, Decimal>;
}

interface PendingIntent {
  sleeve: string;
  instrument: string;
  side: OrderSide;
  ordered: Decimal;
  filled: Decimal;
  /** Filled quantity the terminal order event reported; undefined while the order is live. */
  terminalFilled: Decimal | undefined;
  acceptedAt: number;
  /** Whether execution has said anything about the order yet. */
  acknowledged: boolean;
  /** Signed quantity this intent adds to its sleeve and instrument's in-flight total right now. */
  open: Decimal;
}

/** A sleeve's intents in flight for one instrument. */
interface PendingGroup {
  ids: Set<string>;
  /**
   * The open quantities of the buys and of the sells among them (each >= 0), kept up to date as each
   * intent's `open` changes, so a lookup never walks the intents. The risk check weighs each side apart;
   * their difference is the signed quantity in flight.
   */
  buy: Decimal;
  sell: Decimal;
}

const TERMINAL: ReadonlySet<string> = TERMINAL_ORDER_STATUSES;
const ZERO = new Decimal(0);

export interface SleeveFigures {
  grossExposureUsd: Decimal;
  netExposureUsd: Decimal;
  pnlUsd: Decimal;
}

export class SleeveBook {
  private readonly fills = new Map<string, CountedFill>();
  private readonly holdings = new Map<string, Map<string, Holding>>();
  private readonly pending = new Map<string, PendingIntent>();
  /**
   * The intents in flight by sleeve, then instrument (every instrument the sleeve has had orders in flight
   * for, in the order first seen), so a sleeve's lookup does not scan every sleeve's. Nested maps rather
   * than one joined key: every bar and every intent looks here, and a joined key is a new string each time.
   */
  private readonly pendingGroups = new Map<string, Map<string, PendingGroup>>();
  /** How many intents each sleeve has in flight (the sum of its groups' sizes), counted as they come and go. */
  private readonly pendingCounts = new Map<string, number>();

  /** Counts a fill; returns false when it was already counted (or is an older revision of one). */
  applyFill(fill: BookFill): boolean {
    const { base, revision } = parseExecId(fill.execId);
    const existing = this.fills.get(base);
    if (existing?.execId === fill.execId) {
      // The same fill again, maybe now with the commission that had not arrived when it was first published.
      if (fill.commission !== undefined && !existing.commission.eq(fill.commission)) {
        this.contribute(existing, -1);
        existing.commission = new Decimal(fill.commission);
        existing.commissionCurrency = fill.commissionCurrency ?? existing.commissionCurrency;
        this.contribute(existing, 1);
      }
      return false;
    }
    if (existing && existing.revision >= revision) return false;
    if (existing) this.contribute(existing, -1);
    const quantity = signedQuantity(fill.side, fill.quantity);
    const counted: CountedFill = {
      execId: fill.execId,
      revision,
      sleeve: fill.sleeve,
      instrument: fill.instrument,
      quantity,
      cash: quantity.mul(fill.price).neg(),
      commission: new Decimal(fill.commission ?? '0'),
      commissionCurrency: fill.commissionCurrency,
      intentId: fill.intentId,
    };
    this.fills.set(base, counted);
    this.contribute(counted, 1);
    if (fill.intentId) {
      const pending = this.pending.get(fill.intentId);
      if (pending) {
        pending.filled = pending.filled.add(new Decimal(fill.quantity)).sub(existing?.quantity.abs() ?? 0);
        pending.acknowledged = true;
        this.settle(fill.intentId, pending);
      }
    }
    return true;
  }

  private contribute(fill: CountedFill, sign: 1 | -1): void {
    let sleeve = this.holdings.get(fill.sleeve);
    if (!sleeve) this.holdings.set(fill.sleeve, (sleeve = new Map<string, Holding>()));
    let holding = sleeve.get(fill.instrument);
    if (!holding)
      sleeve.set(
        fill.instrument,
        (holding = { quantity: new Decimal(0), cash: new Decimal(0), commissions: new Map() }),
      );
    holding.quantity = holding.quantity.add(fill.quantity.mul(sign));
    holding.cash = holding.cash.add(fill.cash.mul(sign));
    if (!fill.commission.isZero()) {
      const currency = fill.commissionCurrency ?? 'USD';
      holding.commissions.set(
        currency,
        (holding.commissions.get(currency) ?? new Decimal(0)).add(fill.commission.mul(sign)),
      );
    }
  }

  position(sleeve: string, instrument: string): Decimal {
    return this.holdings.get(sleeve)?.get(instrument)?.quantity ?? new Decimal(0);
  }

  positions(sleeve: string): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [instrument, holding] of this.holdings.get(sleeve) ?? [])
      result[instrument] = holding.quantity.toFixed();
    return result;
  }

  /** Records an accepted intent as in flight. `filled` is what has already filled (when rebuilt at start). */
  addPending(
    intentId: string,
    intent: { sleeve: string; instrument: string; side: OrderSide; quantity: string },
    acceptedAt: number,
    state: { filled?: string; terminalFilled?: string | undefined; acknowledged?: boolean } = {},
  ): void {
    if (this.pending.has(intentId)) return;
    const pending: PendingIntent = {
      sleeve: intent.sleeve,
      instrument: intent.instrument,
      side: intent.side,
      ordered: new Decimal(intent.quantity),
      filled: new Decimal(state.filled ?? '0'),
      terminalFilled: state.terminalFilled === undefined ? undefined : new Decimal(state.terminalFilled),
      acceptedAt,
      acknowledged: state.acknowledged ?? false,
      open: ZERO,
    };
    this.pending.set(intentId, pending);
    let groups = this.pendingGroups.get(pending.sleeve);
    if (!groups) this.pendingGroups.set(pending.sleeve, (groups = new Map<string, PendingGroup>()));
    let group = groups.get(pending.instrument);
    if (!group) groups.set(pending.instrument, (group = { ids: new Set(), buy: ZERO, sell: ZERO }));
    group.ids.add(intentId);
    this.pendingCounts.set(pending.sleeve, (this.pendingCounts.get(pending.sleeve) ?? 0) + 1);
    this.settle(intentId, pending);
  }

  /** An order event from execution; returns true if it concerned an intent in flight. */
  applyOrderEvent(intentId: string, status: string, filledQuantity: string): boolean {
    const pending = this.pending.get(intentId);
    if (!pending) return false;
    pending.acknowledged = true;
    if (TERMINAL.has(status)) pending.terminalFilled = new Decimal(filledQuantity);
    this.settle(intentId, pending);
    return true;
  }

  /** Drops an intent from the in-flight set (it expired before it was published). */
  removePending(intentId: string): void {
    const pending = this.pending.get(intentId);
    if (!pending) return;
    this.pending.delete(intentId);
    this.pendingCounts.set(pending.sleeve, this.pendingCounts.get(pending.sleeve)! - 1);
    const group = this.group(pending.sleeve, pending.instrument)!;
    group.ids.delete(intentId);
    if (group.ids.size === 0) {
      group.buy = ZERO;
      group.sell = ZERO;
      return;
    }
    if (pending.side === 'BUY') group.buy = group.buy.sub(pending.open);
    else group.sell = group.sell.add(pending.open);
  }

  private group(sleeve: string, instrument: string): PendingGroup | undefined {
    return this.pendingGroups.get(sleeve)?.get(instrument);
  }

  /** Re-counts what an intent has in flight after a change to it, and drops it once nothing is. */
  private settle(intentId: string, pending: PendingIntent): void {
    const group = this.group(pending.sleeve, pending.instrument)!;
    const limit = pending.terminalFilled ?? pending.ordered;
    const open = signedQuantity(pending.side, Decimal.max(limit.sub(pending.filled), 0));
    // A buy's open quantity is positive, a sell's negative.
    if (pending.side === 'BUY') group.buy = group.buy.sub(pending.open).add(open);
    else group.sell = group.sell.add(pending.open).sub(open);
    pending.open = open;
    const done =
      pending.terminalFilled !== undefined
        ? pending.filled.gte(pending.terminalFilled)
        : pending.filled.gte(pending.ordered);
    if (done) this.removePending(intentId);
  }

  /** Signed quantity still in flight for a sleeve and instrument. */
  pendingQuantity(sleeve: string, instrument: string): Decimal {
    const group = this.group(sleeve, instrument);
    return group && group.ids.size > 0 ? group.buy.sub(group.sell) : ZERO;
  }

  /** Open quantities of a sleeve's buys and of its sells in flight for an instrument (each >= 0). */
  pendingSides(sleeve: string, instrument: string): { buy: Decimal; sell: Decimal } {
    const group = this.group(sleeve, instrument);
    return group ? { buy: group.buy, sell: group.sell } : { buy: ZERO, sell: ZERO };
  }

  pendingBySleeve(sleeve: string): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [instrument, group] of this.pendingGroups.get(sleeve) ?? [])
      if (group.ids.size > 0) result[instrument] = group.buy.sub(group.sell).toFixed();
    return result;
  }

  pendingCount(sleeve: string): number {
    return this.pendingCounts.get(sleeve) ?? 0;
  }

  /**
   * Forgets intents execution never acknowledged within `ttlMs` (it refused or lost them); returns their
   * ids so the caller can say so. Acknowledged orders stay until a terminal event, however long.
   */
  expireUnacknowledged(now: number, ttlMs: number): string[] {
    const expired: string[] = [];
    for (const [intentId, pending] of this.pending) {
      if (!pending.acknowledged && now - pending.acceptedAt > ttlMs) {
        this.removePending(intentId);
        expired.push(intentId);
      }
    }
    return expired;
  }

  /**
   * Exposure and P&L of a sleeve at the given prices, in USD. P&L is cash moved by fills plus the
   * position at the last price, less commissions, converted at today's rates.
   */
  figures(
    sleeve: string,
    lastPrices: ReadonlyMap<string, string>,
    currencies: ReadonlyMap<string, string>,
    rates: FxRatesToUsd,
  ): SleeveFigures {
    let gross = new Decimal(0);
    let net = new Decimal(0);
    let pnl = new Decimal(0);
    for (const [instrument, holding] of this.holdings.get(sleeve) ?? []) {
      const price = lastPrices.get(instrument);
      const currency = currencies.get(instrument);
      if (price === undefined || currency === undefined) continue;
      const valueUsd = toUsd(holding.quantity.mul(price), currency, rates);
      gross = gross.add(valueUsd.abs());
      net = net.add(valueUsd);
      pnl = pnl.add(toUsd(holding.cash.add(holding.quantity.mul(price)), currency, rates));
      for (const [commissionCurrency, amount] of holding.commissions) {
        pnl = pnl.sub(rates[commissionCurrency] ? toUsd(amount, commissionCurrency, rates) : 0);
      }
    }
    return { grossExposureUsd: gross, netExposureUsd: net, pnlUsd: pnl };
  }

  /** Net positions across sleeves by instrument, for portfolio exposure. */
  portfolioPositions(): Map<string, Decimal> {
    const result = new Map<string, Decimal>();
    for (const sleeve of this.holdings.values()) {
      for (const [instrument, holding] of sleeve) {
        result.set(instrument, (result.get(instrument) ?? new Decimal(0)).add(holding.quantity));
      }
    }
    return result;
  }
}
