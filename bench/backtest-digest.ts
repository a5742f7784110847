// node --import tsx bench/backtest-digest.ts [scale] [out.json]: runs the backtest suite's scenario (scale
// 0.2 by default) and prints SHA-256 digests of what it produced: intents, fills, equity curve, statistics
// and the rest of the result, each and all together. A speed change must leave every digest as it was;
// with `out.json` the serialised result is written too, to diff when one moves. With PROFILE=file the run
// itself (not the set-up, nor the digests) is CPU-profiled into `file` (.cpuprofile, for DevTools);
// PROFILE_FROM=n starts the profile at the n-th replayed bar instead (one phase of the run).
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

import { runBacktest } from '@ibstack/backtest';

import { backtestScenario } from './suites/backtest';

async function main(): Promise<void> {
  const scale = Number(process.argv[2] ?? process.env.BENCH_SCALE ?? '0.2');
  const { bars, options } = backtestScenario(scale);
  const profile = process.env.PROFILE;
  const session = profile ? new Session() : undefined;
  const profileFrom = Number(process.env.PROFILE_FROM ?? '0');
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    if (profileFrom === 0) await session.post('Profiler.start');
  }
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await runBacktest({
    ...options,
    bars,
    onProgress:
      session && profileFrom > 0
        ? (done) => {
            if (done === profileFrom) void session.post('Profiler.start');
          }
        : undefined,
  });
  const cpu = process.cpuUsage(cpuBefore);
  const seconds = (performance.now() - started) / 1000;
  if (session && profile) {
    const { profile: taken } = await session.post('Profiler.stop');
    writeFileSync(profile, JSON.stringify(taken));
    session.disconnect();
  }
  const parts = {
    intents: result.intents,
    trades: result.trades,
    equity: { times: Array.from(result.equity.times), values: Array.from(result.equity.values) },
    statistics: result.statistics,
    prices: [...result.prices],
    systemEvents: result.systemEvents,
    audits: result.audits,
    rejections: result.rejections,
    paused: result.paused,
    barsReplayed: result.barsReplayed,
  };
  const all = createHash('sha256');
  for (const [name, value] of Object.entries(parts)) {
    const json = JSON.stringify(value);
    all.update(`${name}\n${json}\n`);
    process.stdout.write(`${name.padEnd(13)} ${createHash('sha256').update(json).digest('hex')}\n`);
  }
  process.stdout.write(`${'all'.padEnd(13)} ${all.digest('hex')}\n`);
  process.stderr.write(
    `${bars.length} bars in ${seconds.toFixed(1)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s); ` +
      `${result.intents.length} intents, ${result.trades.length} fills\n`,
  );
  const out = process.argv[3];
  if (out) writeFileSync(out, JSON.stringify(parts, null, 1));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
