/**
 * `npm run backtest -- --sleeves <file> --from <date> [--to <date>] [--bars <csv>] [--out <dir>] [--cash <usd>]`:
 * runs the sleeves over historical bars (Postgres or a CSV file) with the strategy's own code and the
 * gateway-sim's matching engine, and writes trades, intents, the equity curve, statistics and a chart.
 * Exit 0 when the run completed, 2 for a bad argument or file (the message names it), 1 otherwise.
 */
import { connectDatabase, DatabaseUnavailableError } from '@ibstack/db';
import { createLogger } from '@ibstack/observability';
import { builtInStrategies, loadSleevesFile, type SleevesConfig } from '@ibstack/strategy';
import Decimal from 'decimal.js';

import { parseBacktestArgs, USAGE } from './args';
import { runBacktest } from './backtest';
import { barStreams, loadBarsFromCsv, loadBarsFromPostgres } from './bar-source';
import { BacktestArgumentError } from './errors';
import { progressReporter } from './progress';
import { summaryLines, writeReport } from './report';

const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/ibstack';

async function main(): Promise<number> {
  const out = process.stdout;
  const args = parseBacktestArgs(process.argv.slice(2), Date.now());
  let sleeves: SleevesConfig;
  try {
    sleeves = loadSleevesFile(args.sleevesFile, builtInStrategies());
  } catch (error) {
    throw new BacktestArgumentError('--sleeves', (error as Error).message);
  }
  const streams = barStreams(sleeves);
  if (streams.length === 0) throw new BacktestArgumentError('--sleeves', 'no enabled sleeve');

  let bars;
  let source: string;
  if (args.barsFile) {
    source = args.barsFile;
    bars = loadBarsFromCsv(args.barsFile, streams, args.fromMs, args.toMs);
  } else {
    const url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
    source = 'Postgres (DATABASE_URL)';
    let handle;
    try {
      handle = await connectDatabase(url, { applicationName: 'backtest', maxConnections: 2 });
    } catch (error) {
      if (!(error instanceof DatabaseUnavailableError)) throw error;
      throw new BacktestArgumentError('DATABASE_URL', `${error.message} (or read bars from a file: --bars)`);
    }
    try {
      bars = await loadBarsFromPostgres(handle.db, streams, args.fromMs, args.toMs);
    } finally {
      await handle.close();
    }
  }
  const inWindow = bars.filter((bar) => Date.parse(bar.ts) >= args.fromMs).length;
  if (inWindow === 0) {
    const names = streams.map((s) => `${s.instrument} ${s.timeframe}`).join(', ');
    throw new BacktestArgumentError(
      '--from/--to',
      `no bars of ${names} from ${new Date(args.fromMs).toISOString()} to ${new Date(args.toMs).toISOString()} in ${source}`,
    );
  }
  const cashUsd =
    args.cashUsd ??
    sleeves.sleeves
      .filter((sleeve) => sleeve.enabled)
      .reduce((sum, sleeve) => sum.add(sleeve.capitalUsd), new Decimal(0))
      .toNumber();

  out.write(
    `backtest of ${args.sleevesFile} from ${new Date(args.fromMs).toISOString()} to ${new Date(args.toMs).toISOString()}\n` +
      `  bars from ${source}: ${inWindow} to replay, ${bars.length - inWindow} before them for warm-up; cash ${cashUsd} USD\n`,
  );
  const progress = progressReporter(process.stderr);
  const log = createLogger({
    service: 'backtest',
    level: process.env.LOG_LEVEL ?? 'error',
    destination: process.stderr,
  });
  const result = await runBacktest({
    sleeves,
    bars,
    fromMs: args.fromMs,
    toMs: args.toMs,
    initialCashUsd: cashUsd,
    log,
    onProgress: (done, total, at) => progress.update(done, total, at),
  });
  progress.finish();
  const title = `Backtest ${args.sleevesFile.replace(/^.*\//, '')}  ${new Date(args.fromMs).toISOString().slice(0, 10)} → ${new Date(args.toMs).toISOString().slice(0, 10)}`;
  const files = writeReport(result, {
    outDir: args.outDir,
    title,
    run: {
      sleevesFile: args.sleevesFile,
      from: new Date(args.fromMs).toISOString(),
      to: new Date(args.toMs).toISOString(),
      bars: source,
      cashUsd,
    },
  });
  out.write(`${summaryLines(result).join('\n')}\n\n`);
  out.write(
    `  chart     ${files.chart}\n  trades    ${files.trades}\n  intents   ${files.intents}\n` +
      `  equity    ${files.equity}\n  summary   ${files.summary}\n`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof BacktestArgumentError) {
      process.stderr.write(`backtest: ${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(
      `backtest failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
