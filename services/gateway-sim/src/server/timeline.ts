/**
 * When the sim sent each real-time bar and received each order, in precise wall-clock time
 * (`performance.timeOrigin + performance.now()`, comparable across processes on one machine). It lets a
 * benchmark measure tick-to-order latency from the gateway's side of the socket: the bar that triggered a
 * strategy left here at one time, the resulting placeOrder arrived here at another. Bounded ring buffers.
 */
import { performance } from 'node:perf_hooks';

export interface BarSent {
  instrument: string;
  /** Bar start, epoch seconds (the bar's own time). */
  barTime: number;
  /** Wall-clock epoch ms with sub-millisecond precision. */
  sentAt: number;
}

export interface OrderReceived {
  orderId: number;
  orderRef: string;
  receivedAt: number;
}

const CAPACITY = 20_000;

export const preciseNow = (): number => performance.timeOrigin + performance.now();

export class Timeline {
  private readonly bars: BarSent[] = [];
  private readonly orders: OrderReceived[] = [];

  barSent(instrument: string, barTime: number): void {
    // One entry per bar: several subscribers to the same bar share its first send time.
    const last = this.bars.at(-1);
    if (last && last.instrument === instrument && last.barTime === barTime) return;
    this.bars.push({ instrument, barTime, sentAt: preciseNow() });
    if (this.bars.length > CAPACITY) this.bars.shift();
  }

  orderReceived(orderId: number, orderRef: string): void {
    this.orders.push({ orderId, orderRef, receivedAt: preciseNow() });
    if (this.orders.length > CAPACITY) this.orders.shift();
  }

  snapshot(): { bars: BarSent[]; orders: OrderReceived[] } {
    return { bars: [...this.bars], orders: [...this.orders] };
  }
}
