/**
 * Progress of a run: a bar redrawn in place on a terminal, or a log line every 10% (and at most every
 * few seconds) when the output is a file or a pipe.
 */
export interface ProgressReporter {
  update(done: number, total: number, at: string): void;
  finish(): void;
}

export function progressReporter(stream: NodeJS.WriteStream, now: () => number = Date.now): ProgressReporter {
  const startedAt = now();
  const rate = (done: number) => {
    const seconds = (now() - startedAt) / 1000;
    return seconds > 0 ? Math.round(done / seconds) : 0;
  };
  if (stream.isTTY) {
    let lastDraw = 0;
    let drawn = false;
    return {
      update(done, total, at) {
        if (done < total && now() - lastDraw < 100) return;
        lastDraw = now();
        const width = 30;
        const share = total > 0 ? done / total : 1;
        const filled = Math.round(share * width);
        stream.write(
          `\r  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ` +
            `${done}/${total} bars  ${at.slice(0, 16).replace('T', ' ')}  ${rate(done)} bars/s `,
        );
        drawn = true;
      },
      finish() {
        if (drawn) stream.write('\n');
      },
    };
  }
  let nextShare = 0.1;
  let lastLine = 0;
  return {
    update(done, total, at) {
      const share = total > 0 ? done / total : 1;
      if (share < nextShare && now() - lastLine < 10_000) return;
      while (nextShare <= share) nextShare += 0.1;
      lastLine = now();
      stream.write(
        `backtest: ${done}/${total} bars (${(share * 100).toFixed(0)}%), at ${at}, ${rate(done)} bars/s\n`,
      );
    },
    finish() {},
  };
}
