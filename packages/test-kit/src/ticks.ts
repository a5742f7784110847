import type { Bus } from '@ibstack/bus';
import { instrumentKey, nowIso, parseInstrumentSpec, topics } from '@ibstack/contracts';

export interface QuoteSource {
  quote(instrument: string): { bid: number; ask: number; last: number } | undefined;
}

/**
 * Publishes the quotes of `source` (a gateway-sim) as ticks on `md.tick.<sym>` every `intervalMs`, the
 * way the ingestor does: for tests and benchmarks of execution, which prices orders from those ticks,
 * without running the ingestor. Returns a stop function.
 */
export function publishQuoteTicks(
  bus: Bus,
  source: QuoteSource,
  instruments: readonly string[] = ['EUR.CAD'],
  intervalMs = 250,
  /** Stamps the ticks: the clock of the service under test, which judges their age by it. */
  clock: () => number = Date.now,
): () => void {
  const publish = () => {
    for (const spec of instruments) {
      const quote = source.quote(spec);
      if (!quote) continue;
      const at = nowIso(clock);
      void bus
        .publish(topics.tick, {
          v: 1,
          instrument: instrumentKey(parseInstrumentSpec(spec)),
          ts: at,
          receivedAt: at,
          bid: String(quote.bid),
          ask: String(quote.ask),
          last: String(quote.last),
        })
        .catch(() => undefined);
    }
  };
  publish();
  const timer = setInterval(publish, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
