/**
 * The last bar each sleeve has processed, per instrument and timeframe (bar open time, epoch ms). A bar at
 * or before it has been seen already and is skipped. Pure state; Postgres holds the durable copy.
 *
 * Kept in nested maps rather than under one joined key: every bar reads and writes it for each sleeve, and
 * a joined key is a new string to build and hash each time.
 */
export class BarProgress {
  private readonly lastBarMs = new Map<string, Map<string, Map<string, number>>>();

  lastBar(sleeve: string, instrument: string, timeframe: string): number | undefined {
    return this.lastBarMs.get(sleeve)?.get(instrument)?.get(timeframe);
  }

  record(sleeve: string, instrument: string, timeframe: string, barMs: number): void {
    let instruments = this.lastBarMs.get(sleeve);
    if (!instruments) this.lastBarMs.set(sleeve, (instruments = new Map<string, Map<string, number>>()));
    let timeframes = instruments.get(instrument);
    if (!timeframes) instruments.set(instrument, (timeframes = new Map<string, number>()));
    timeframes.set(timeframe, barMs);
  }
}
