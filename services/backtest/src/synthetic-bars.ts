import type { Bar, InstrumentKey, Timeframe } from '@ibstack/contracts';
import { TIMEFRAME_SECONDS } from '@ibstack/contracts';

/**
 * Deterministic random-walk bars (a seeded xorshift, log-normal steps), for the benchmark and tests that
 * need many bars without a database. Prices carry `decimals` digits, as a quote would.
 */
export function syntheticBars(options: {
  instrument: InstrumentKey;
  timeframe: Timeframe;
  fromMs: number;
  count: number;
  start: number;
  /** Standard deviation of one bar's log return. */
  volatility: number;
  decimals: number;
  seed?: number;
}): Bar[] {
  let state = (options.seed ?? 1) >>> 0 || 1;
  const uniform = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return (state + 0.5) / 4_294_967_296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const stepMs = TIMEFRAME_SECONDS[options.timeframe] * 1000;
  const bars: Bar[] = [];
  let price = options.start;
  for (let index = 0; index < options.count; index++) {
    const open = price;
    const a = open * Math.exp(normal() * options.volatility * 0.6);
    const close = open * Math.exp(normal() * options.volatility);
    const high = Math.max(open, close, a);
    const low = Math.min(open, close, a);
    price = close;
    const ts = new Date(options.fromMs + index * stepMs).toISOString();
    const text = (value: number) => value.toFixed(options.decimals);
    bars.push({
      v: 1,
      instrument: options.instrument,
      timeframe: options.timeframe,
      ts,
      open: text(open),
      high: text(high),
      low: text(low),
      close: text(close),
      volume: '0',
      source: 'backfill',
      receivedAt: ts,
    });
  }
  return bars;
}
