/**
 * Account requests: positions (reqPositions), account summaries (reqAccountSummary) and account updates
 * (reqAccountUpdates). Subscriptions get the full picture at once, then updates when a fill or a drift
 * changes the account and every three simulated minutes (IB's refresh period), while prices move.
 */
import { DateTime } from 'luxon';

import { NEW_YORK } from '../market/trading-hours';
import { IbCode } from '../protocol/ib-errors';
import type { ClientRequest } from '../protocol/requests';
import * as response from '../protocol/responses';
import { accountUpdateValues, selectSummary, summaryValues, valuesRecord } from '../trading/account-report';
import type { GatewayContext } from './context';
import type { Session } from './session';

interface SummarySubscription {
  session: Session;
  reqId: number;
  tags: string;
}

/** IB's account refresh period, in simulated time. */
const REFRESH_MS = 180_000;
/** IB allows two account summary subscriptions at a time per client. */
const MAX_SUMMARIES = 2;

export class AccountService {
  private readonly positionSubscribers = new Set<Session>();
  private readonly summaries = new Map<string, SummarySubscription>();
  private readonly updateSubscribers = new Set<Session>();
  private changed = false;
  private nextRefresh = 0;
  /** A fault: account updates (reqAccountUpdates) stop, the subscription silent but not cancelled. */
  private updatesStalled = false;

  constructor(private readonly ctx: GatewayContext) {}

  handle(session: Session, request: ClientRequest): boolean {
    switch (request.type) {
      case 'reqPositions':
        this.positionSubscribers.add(session);
        this.sendPositions(session);
        return true;
      case 'cancelPositions':
        this.positionSubscribers.delete(session);
        return true;
      case 'reqAccountSummary':
        this.subscribeSummary(session, request.reqId, request.group, request.tags);
        return true;
      case 'cancelAccountSummary':
        this.summaries.delete(`${session.id}:${request.reqId}`);
        return true;
      case 'reqAccountUpdates':
        if (request.subscribe) {
          this.updateSubscribers.add(session);
          this.sendAccountUpdates(session, true);
        } else {
          this.updateSubscribers.delete(session);
        }
        return true;
      default:
        return false;
    }
  }

  dropSession(session: Session): void {
    this.positionSubscribers.delete(session);
    this.updateSubscribers.delete(session);
    for (const [subscriptionKey, subscription] of this.summaries) {
      if (subscription.session === session) this.summaries.delete(subscriptionKey);
    }
  }

  /** A position changed: subscribers of reqPositions hear about it at once. */
  positionChanged(instrumentKey: string): void {
    const position = this.ctx.broker.positionOf(instrumentKey);
    if (!position) return;
    const instrument = this.ctx.instruments.get(instrumentKey);
    for (const session of this.positionSubscribers) {
      session.send(
        response.position(this.ctx.broker.account, instrument, position.quantity, position.averageCost),
      );
    }
    this.changed = true;
  }

  /**
   * A fault: the account-updates subscription goes silent (no values, no account time, no download end
   * for a new one) until it is ended; then every subscriber gets the full picture again.
   */
  stallUpdates(on: boolean): void {
    this.updatesStalled = on;
    if (!on) for (const session of this.updateSubscribers) this.sendAccountUpdates(session, true);
  }

  /** Cash or P&L changed; subscribers are refreshed on the next tick (changes in one turn coalesce). */
  accountChanged(): void {
    this.changed = true;
  }

  tick(): void {
    const now = this.ctx.clock.now();
    if (!this.changed && now < this.nextRefresh) return;
    this.changed = false;
    this.nextRefresh = now + REFRESH_MS;
    if (this.updateSubscribers.size === 0 && this.summaries.size === 0) return;
    for (const session of this.updateSubscribers) this.sendAccountUpdates(session, false);
    for (const subscription of this.summaries.values()) this.sendSummary(subscription);
  }

  /** The values reqAccountUpdates would show now, for the programmatic API. */
  valuesRecord(): Record<string, string> {
    const figures = this.ctx.broker.figures();
    const now = this.ctx.clock.now();
    return valuesRecord(
      accountUpdateValues(figures, this.ctx.broker.account, (currency) =>
        this.ctx.broker.toUsd(currency, now),
      ),
    );
  }

  private sendPositions(session: Session): void {
    const broker = this.ctx.broker;
    for (const instrumentKey of broker.positionKeys()) {
      const position = broker.positionOf(instrumentKey)!;
      session.send(
        response.position(
          broker.account,
          this.ctx.instruments.get(instrumentKey),
          position.quantity,
          position.averageCost,
        ),
      );
    }
    for (const other of broker.otherAccountPositions())
      session.send(
        response.position(
          other.account,
          this.ctx.instruments.get(other.key),
          other.quantity,
          other.averageCost,
        ),
      );
    session.send(response.positionEnd());
  }

  private subscribeSummary(session: Session, reqId: number, group: string, tags: string): void {
    const own = [...this.summaries.values()].filter((subscription) => subscription.session === session);
    if (own.length >= MAX_SUMMARIES) {
      session.send(
        response.errorMessage(
          reqId,
          322,
          'Error processing request:Maximum number of account summary requests exceeded',
        ),
      );
      return;
    }
    if (group.trim() !== '' && group.trim().toLowerCase() !== 'all') {
      session.send(
        response.errorMessage(
          reqId,
          IbCode.validation,
          `Error validating request.-'bb' : cause - Unknown account group "${group}"`,
        ),
      );
      return;
    }
    const subscription = { session, reqId, tags };
    this.summaries.set(`${session.id}:${reqId}`, subscription);
    this.sendSummary(subscription);
  }

  private sendSummary(subscription: SummarySubscription): void {
    const figures = this.ctx.broker.figures();
    const account = this.ctx.broker.account;
    for (const value of selectSummary(summaryValues(figures), figures, subscription.tags)) {
      subscription.session.send(
        response.accountSummary(subscription.reqId, account, value.tag, value.value, value.currency),
      );
    }
    subscription.session.send(response.accountSummaryEnd(subscription.reqId));
  }

  private sendAccountUpdates(session: Session, initial: boolean): void {
    if (this.updatesStalled) return;
    const broker = this.ctx.broker;
    const figures = broker.figures();
    const now = this.ctx.clock.now();
    const account = broker.account;
    for (const value of accountUpdateValues(figures, account, (currency) => broker.toUsd(currency, now))) {
      session.send(response.accountValue(value.tag, value.value, value.currency, account));
    }
    for (const position of figures.positions) {
      session.send(
        response.portfolioValue(
          this.ctx.instruments.get(position.instrument),
          { ...position, realizedPnl: position.realizedPnl },
          account,
        ),
      );
    }
    session.send(response.accountUpdateTime(DateTime.fromMillis(now, { zone: NEW_YORK }).toFormat('HH:mm')));
    if (initial) session.send(response.accountDownloadEnd(account));
  }
}
