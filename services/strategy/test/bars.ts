import type { Bar } from '@ibstack/contracts';
import { makeBar } from '@ibstack/test-kit';

/** One-minute bars whose open, high, low and close are all `close`, from `startIso` on. */
export function flatBars(
  closes: ReadonlyArray<number | string>,
  startIso: string,
  instrument = 'EURCAD',
): Bar[] {
  const start = Date.parse(startIso);
  return closes.map((close, index) => {
    const price = String(close);
    const ts = new Date(start + index * 60_000).toISOString();
    return makeBar({ instrument, ts, open: price, high: price, low: price, close: price, receivedAt: ts });
  });
}
