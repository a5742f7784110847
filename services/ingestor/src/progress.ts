/**
 * How backfill progress is shown to a person: a progress bar per instrument on a terminal, periodic log
 * lines otherwise (a container log, CI). The metric `md_backfill_progress_ratio` is set regardless, by
 * the gap repair itself.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Logger } from '@ibstack/observability';

export interface ProgressReporter {
  start(instrument: string, chunks: number, minutes: number): void;
  advance(instrument: string, chunksDone: number, bars: number): void;
  finish(instrument: string, outcome: 'done' | 'interrupted'): void;
  close(): void;
}

/** Log lines: one at the start, then at most one per `intervalMs` per instrument, one at the end. */
export function logProgress(
  logger: Logger,
  intervalMs = 5_000,
  clock: () => number = Date.now,
): ProgressReporter {
  const state = new Map<
    string,
    { chunks: number; minutes: number; bars: number; lastLog: number; startedAt: number }
  >();
  return {
    start(instrument, chunks, minutes) {
      state.set(instrument, { chunks, minutes, bars: 0, lastLog: clock(), startedAt: clock() });
      logger.info({ instrument, requests: chunks, missingMinutes: minutes }, 'backfill started');
    },
    advance(instrument, chunksDone, bars) {
      const entry = state.get(instrument);
      if (!entry) return;
      entry.bars = bars;
      if (clock() - entry.lastLog < intervalMs && chunksDone < entry.chunks) return;
      entry.lastLog = clock();
      logger.info(
        {
          instrument,
          requestsDone: chunksDone,
          requests: entry.chunks,
          bars,
          percent: Math.round((100 * chunksDone) / Math.max(1, entry.chunks)),
        },
        'backfill progress',
      );
    },
    finish(instrument, outcome) {
      const entry = state.get(instrument);
      state.delete(instrument);
      logger.info(
        {
          instrument,
          outcome,
          bars: entry?.bars ?? 0,
          seconds: entry ? (clock() - entry.startedAt) / 1000 : 0,
        },
        outcome === 'done' ? 'backfill finished' : 'backfill interrupted; the next gap check resumes it',
      );
    },
    close() {
      state.clear();
    },
  };
}

/** Progress bars on a terminal (stderr, so they never mix with the JSON log on stdout). */
export function terminalProgress(): ProgressReporter {
  const multi = new MultiBar(
    {
      format: '{instrument} [{bar}] {percentage}% | {value}/{total} requests | {bars} bars',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    Presets.shades_classic,
  );
  const bars = new Map<string, SingleBar>();
  return {
    start(instrument, chunks) {
      bars.get(instrument)?.stop();
      bars.set(instrument, multi.create(chunks, 0, { instrument: instrument.padEnd(8), bars: 0 }));
    },
    advance(instrument, chunksDone, barCount) {
      bars.get(instrument)?.update(chunksDone, { bars: barCount });
    },
    finish(instrument) {
      const bar = bars.get(instrument);
      bar?.stop();
      bars.delete(instrument);
    },
    close() {
      multi.stop();
    },
  };
}

/** Terminal bars when stderr is a terminal, log lines otherwise. */
export function defaultProgress(logger: Logger): ProgressReporter {
  return process.stderr.isTTY ? terminalProgress() : logProgress(logger);
}
