/**
 * The last bar each sleeve has processed, per instrument and timeframe (bar open time, epoch ms). A bar at
 * or before it has been seen already and is skipped. Pure state; Postgres holds the durable copy.
 */
export class BarProgress {
  private readonly lastBarMs = new Map<string, number>();

  lastBar(sleeve: string, instrument: string, timeframe: string): number | undefined {
    return this.lastBarMs.get(progressKey(sleeve, instrument, timeframe));
  }

  record(sleeve: string, instrument: string, timeframe: string, barMs: number): void {
    this.lastBarMs.set(progressKey(sleeve, instrument, timeframe), barMs);
  }
}

function progressKey(sleeve: string, instrument: string, timeframe: string): string {
  return `${sleeve}\u0000${instrument}\u0000${timeframe}`;
}
