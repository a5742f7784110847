/**
 * A deterministic random walk that can be evaluated at any second in O(1): multi-octave value noise whose
 * octave amplitudes grow with the square root of their period, so increments over a lag Δ have a variance
 * close to σ²·Δ (Brownian) from one second up to about a month, flattening beyond that until, past half a year, it reverts to its
 * anchor level. Live ticks, real-time bars and historical bars all read the same function, so they agree.
 */

/** Octave periods 2^0 … 2^24 seconds (1 s … 194 days): beyond about half a year the walk reverts to its level. */
const OCTAVES = 25;
/**
 * Scales the octave sum so that Var[N(s+Δ) − N(s)] ≈ Δ. Derived for linear value noise (cells with a uniform
 * value in [−1, 1]) and checked by the price-model test.
 */
const VARIANCE_SCALE = 0.875;
const SECONDS_PER_YEAR = 365.25 * 86_400;

// Module-local copies of the Math functions on the hot path: inside a vm context (jest's test environment)
// every lookup of the global `Math` goes through the context's interceptor and costs about 100 times a
// local read, which made a long historical request minutes long under test.
const { exp, floor, imul, sqrt } = Math;

function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of a few integers. */
export function hashInts(a: number, b: number, c = 0, d = 0): number {
  let h = 0x9e3779b9;
  h = mixIn(h, a);
  h = mixIn(h, b);
  h = mixIn(h, c);
  return mixIn(h, d);
}

function mixIn(h: number, value: number): number {
  const low = value >>> 0;
  const high = floor(value / 4_294_967_296) >>> 0;
  return mix32((mix32(h ^ low) + 0x7f4a7c15) ^ high);
}

/** A 32-bit hash of a string (FNV-1a), used to give each instrument its own noise. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Uniform in [0, 1) from a hash. */
export function unit(hash: number): number {
  return hash / 4_294_967_296;
}

/** The standardised walk N(s): N(s+Δ) − N(s) has variance ≈ Δ (seconds). */
export class ValueNoiseWalk {
  private readonly periods = new Float64Array(OCTAVES);
  private readonly offsets = new Float64Array(OCTAVES);
  private readonly amplitudes = new Float64Array(OCTAVES);
  /**
   * The lattice values of the cell each octave last looked at. Neighbouring seconds share every cell but
   * the lowest few, so sweeping a range (a historical request) costs a few hashes per second, not 50.
   */
  private readonly cachedCell = new Float64Array(OCTAVES).fill(Number.NaN);
  private readonly cachedStart = new Float64Array(OCTAVES);
  private readonly cachedEnd = new Float64Array(OCTAVES);

  constructor(private readonly stream: number) {
    for (let octave = 0; octave < OCTAVES; octave++) {
      const period = 2 ** octave;
      this.periods[octave] = period;
      this.offsets[octave] = hashInts(stream, octave, 0xabcdef) % period;
      this.amplitudes[octave] = sqrt(period) * VARIANCE_SCALE;
    }
  }

  at(second: number): number {
    let sum = 0;
    for (let octave = 0; octave < OCTAVES; octave++) {
      const period = this.periods[octave]!;
      const shifted = second + this.offsets[octave]!;
      const cell = floor(shifted / period);
      const cachedCell = this.cachedCell[octave]!;
      if (cachedCell !== cell) {
        // A sweep moves on by one cell at a time: the old end is the new start.
        this.cachedStart[octave] =
          cell === cachedCell + 1
            ? this.cachedEnd[octave]!
            : unit(hashInts(this.stream, octave, cell)) * 2 - 1;
        this.cachedEnd[octave] = unit(hashInts(this.stream, octave, cell + 1)) * 2 - 1;
        this.cachedCell[octave] = cell;
      }
      const a = this.cachedStart[octave]!;
      sum +=
        this.amplitudes[octave]! * (a + (this.cachedEnd[octave]! - a) * ((shifted - cell * period) / period));
    }
    return sum;
  }
}

/** A mid-price path: level × exp(σ_per_√second × N(s)). */
export class PricePath {
  private readonly walk: ValueNoiseWalk;
  private readonly sigmaPerRootSecond: number;

  constructor(
    seed: number,
    name: string,
    private readonly level: number,
    annualVolatility: number,
  ) {
    this.walk = new ValueNoiseWalk(hashInts(seed >>> 0, hashString(name)));
    this.sigmaPerRootSecond = annualVolatility / sqrt(SECONDS_PER_YEAR);
  }

  mid(second: number): number {
    return this.level * exp(this.sigmaPerRootSecond * this.walk.at(second));
  }
}
