/**
 * `npm run bench -- failover`: the failover drill (infra/failover/test/drill.int.test.ts, root needed)
 * run several times. Failover time is the primary cut (link down and processes killed, or partitioned)
 * → the first new order the simulated broker accepts from the taker; baseline: the lease TTL, the floor
 * no takeover can beat (the standby may take the lease only once it expired). Replication lag is the
 * standby's replay lag sampled every second while the demo sleeve trades; baseline: the sampling
 * interval, its resolution.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type Figure, type Suite } from '../lib/report';
import { percentile } from '../lib/stats';

const REPO = join(__dirname, '..', '..');

interface DrillResults {
  leaseTtlMs: number;
  timings: Array<{ scenario: string; failoverMs: number }>;
  replicationLagSeconds: number[];
  sampleIntervalMs: number;
}

export const failoverSuite: Suite = {
  name: 'failover',
  description: 'failover drill on network namespaces: cut → first order from the taker; replication lag',
  run({ scale, log }) {
    const runs = Math.max(1, Math.round(3 * scale));
    const dir = mkdtempSync(join(tmpdir(), 'ibstack-bench-failover-'));
    const all: DrillResults[] = [];
    try {
      for (let run = 1; run <= runs; run++) {
        const file = join(dir, `drill-${run}.json`);
        log(`drill ${run}/${runs}`);
        const result = spawnSync('npx', ['jest', 'infra/failover/test/drill.int.test.ts'], {
          cwd: REPO,
          env: { ...process.env, DRILL_RESULTS_FILE: file },
          stdio: ['ignore', 'ignore', 'pipe'],
          encoding: 'utf8',
        });
        if (result.status !== 0) throw new Error(`drill ${run} failed:\n${result.stderr.slice(-4_000)}`);
        all.push(JSON.parse(readFileSync(file, 'utf8')) as DrillResults);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const times = all.flatMap((results) => results.timings.map((timing) => timing.failoverMs));
    const lags = all.flatMap((results) => results.replicationLagSeconds.map((seconds) => seconds * 1_000));
    const ttl = all[0]!.leaseTtlMs;
    const interval = all[0]!.sampleIntervalMs;
    const figures: Figure[] = [
      {
        name: `failover time p50 (${times.length} takeovers)`,
        value: percentile(times, 50),
        unit: 'ms',
        baselineName: 'lease TTL',
        baseline: ttl,
        better: 'lower',
      },
      {
        name: 'failover time worst',
        value: Math.max(...times),
        unit: 'ms',
        baselineName: 'lease TTL',
        baseline: ttl,
        better: 'lower',
      },
      {
        name: `replication lag while trading p50 (${lags.length} samples)`,
        value: percentile(lags, 50),
        unit: 'ms',
        baselineName: 'sampling interval',
        baseline: interval,
        better: 'lower',
      },
      {
        name: 'replication lag while trading worst',
        value: Math.max(...lags),
        unit: 'ms',
        baselineName: 'sampling interval',
        baseline: interval,
        better: 'lower',
      },
    ];
    return Promise.resolve(figures);
  },
};
