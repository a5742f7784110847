/**
 * `npm run bench -- failover`: the failover drill (infra/failover/test/drill.int.test.ts, root needed)
 * run several times (BENCH_SCALE scales the count; 3 at 1).
 *
 * - Failover time: the primary cut (link down and processes killed) or partitioned → the first new order
 *   the simulated broker accepts from the taker. Baseline, measured in the same run: a bare NATS KV
 *   lease takeover — one local nats-server, a bucket with the drill's TTL, a holder renewing every TTL/3
 *   that stops at a random point of its cycle (the "cut"), a waiter trying to create the key every
 *   second (as execution polls) — from the stop to the waiter's successful create. That
 *   is the floor no takeover of ours can beat; the ratio says what the cluster, promotion, the gateway
 *   session, reconciliation and the strategy's next intent add on top.
 * - Replication lag while trading: the primary's `pg_stat_replication.replay_lag` for the standby,
 *   sampled every second over WireGuard while the demo sleeve trades. Baseline, measured in the same
 *   run: the same figure for a bare primary and replica on loopback (no namespaces, no WireGuard) under
 *   a write every 100 ms.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { spawnProcess, type SpawnedProcess } from '@ibstack/test-kit';
import pg from 'pg';

import { type Figure, type Suite } from '../lib/report';
import { percentile } from '../lib/stats';

const REPO = join(__dirname, '..', '..');
const PG_BIN = '/usr/lib/postgresql/15/bin';

interface DrillResults {
  leaseTtlMs: number;
  timings: Array<{ scenario: string; failoverMs: number }>;
  replicationLagMs: number[];
}

export const failoverSuite: Suite = {
  name: 'failover',
  description: 'failover drill on network namespaces: cut → first order from the taker; replication lag',
  async run({ scale, log }) {
    const runs = Math.max(1, Math.round(3 * scale));
    const dir = mkdtempSync(join(tmpdir(), 'ibstack-bench-failover-'));
    const all: DrillResults[] = [];
    let failed = 0;
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
        if (result.status !== 0) {
          // Counted and shown, not hidden: the figures below name how many drills failed.
          failed++;
          log(`drill ${run} failed:\n${result.stderr.slice(-3_000)}`);
          continue;
        }
        const results = JSON.parse(readFileSync(file, 'utf8')) as DrillResults;
        log(`  ${results.timings.map((t) => `${t.scenario}: ${t.failoverMs} ms`).join(', ')}`);
        all.push(results);
      }
      if (all.length === 0) throw new Error(`all ${runs} drills failed`);
      const ttl = all[0]!.leaseTtlMs;
      const drills = `${all.length} drills${failed ? `, ${failed} more failed` : ''}`;
      log(`bare NATS KV lease takeover (TTL ${ttl} ms)`);
      const bareTakeovers = await bareLeaseTakeovers(dir, ttl, 3);
      log(`  ${bareTakeovers.map((ms) => Math.round(ms)).join(', ')} ms`);
      log('bare replication lag on loopback');
      const bareLags = await bareReplicationLag(dir, 20);
      const times = all.flatMap((results) => results.timings.map((timing) => timing.failoverMs));
      const lags = all.flatMap((results) => results.replicationLagMs);
      const bareTakeover = percentile(bareTakeovers, 50);
      const figures: Figure[] = [
        {
          name: `failover time p50 (${times.length} takeovers, ${drills})`,
          value: percentile(times, 50),
          unit: 'ms',
          baselineName: 'bare KV lease takeover p50',
          baseline: bareTakeover,
          better: 'lower',
        },
        {
          name: 'failover time worst',
          value: Math.max(...times),
          unit: 'ms',
          baselineName: 'bare KV lease takeover p50',
          baseline: bareTakeover,
          better: 'lower',
        },
        {
          name: `replication lag while trading p50 (${lags.length} samples)`,
          value: percentile(lags, 50),
          unit: 'ms',
          baselineName: 'bare loopback replica p50',
          baseline: percentile(bareLags, 50),
          better: 'lower',
        },
        {
          name: 'replication lag while trading worst',
          value: Math.max(...lags),
          unit: 'ms',
          baselineName: 'bare loopback replica worst',
          baseline: Math.max(...bareLags),
          better: 'lower',
        },
      ];
      return figures;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `trials` bare lease takeovers at once (one bucket each) on one local nats-server; ms each. */
export async function bareLeaseTakeovers(dir: string, ttlMs: number, trials: number): Promise<number[]> {
  const port = await freePort();
  const server = spawnProcess('nats-server', [
    '-js',
    '-a',
    '127.0.0.1',
    '-p',
    String(port),
    '-sd',
    join(dir, 'js'),
  ]);
  try {
    await server.waitForLine(/Server is ready/, 20_000).catch(() => undefined);
    const nc = await connect({ servers: `127.0.0.1:${port}`, timeout: 10_000 });
    try {
      const kvm = new Kvm(nc);
      return await Promise.all(
        Array.from({ length: trials }, async (_, trial) => {
          const kv = await kvm.create(`bench_lease_${trial}`, { ttl: ttlMs, history: 1 });
          const value = new TextEncoder().encode('holder');
          let revision = await kv.create('execution', value);
          // The holder renews every TTL/3 for a while, then stops at a random point of its cycle.
          const stopAt = performance.now() + ttlMs + Math.random() * (ttlMs / 3);
          while (performance.now() < stopAt) {
            await sleep(Math.min(ttlMs / 3, Math.max(0, stopAt - performance.now())));
            if (performance.now() >= stopAt) break;
            revision = await kv.update('execution', value, revision);
          }
          // The waiter polls with create, as a standby's execution does.
          for (;;) {
            try {
              await kv.create('execution', new TextEncoder().encode('waiter'));
              return performance.now() - stopAt;
            } catch {
              await sleep(1_000);
            }
          }
        }),
      );
    } finally {
      await nc.close();
    }
  } finally {
    await server.kill('SIGKILL');
  }
}

/** A bare primary and streaming replica on loopback, a write every 100 ms; replay_lag (ms) each second. */
export async function bareReplicationLag(dir: string, seconds: number): Promise<number[]> {
  const passwd = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((line) => line.startsWith('postgres:'))!
    .split(':');
  const [uid, gid] = [Number(passwd[2]), Number(passwd[3])];
  const asPostgres = (args: string[]) => [
    '--reuid=postgres',
    '--regid=postgres',
    '--init-groups',
    '--',
    ...args,
  ];
  const run = (args: string[]) => {
    const result = spawnSync('setpriv', asPostgres(args), { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${args.join(' ')}: ${result.stderr}`);
  };
  const base = join(dir, 'pg');
  spawnSync('mkdir', ['-p', base]);
  chmodSync(dir, 0o755);
  chownSync(base, uid, gid);
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const primaryDir = join(base, 'primary');
  const replicaDir = join(base, 'replica');
  const servers: SpawnedProcess[] = [];
  const start = (data: string, port: number) => {
    servers.push(
      spawnProcess('setpriv', asPostgres([`${PG_BIN}/postgres`, '-D', data, '-p', String(port), '-k', base])),
    );
  };
  const waitReady = async (port: number) => {
    for (let attempt = 0; attempt < 200; attempt++) {
      if (spawnSync(`${PG_BIN}/pg_isready`, ['-h', '127.0.0.1', '-p', String(port), '-q']).status === 0)
        return;
      await sleep(100);
    }
    throw new Error(`Postgres on ${port} did not start`);
  };
  try {
    run([`${PG_BIN}/initdb`, '-D', primaryDir, '-A', 'trust', '-U', 'postgres']);
    writeFileSync(
      join(primaryDir, 'postgresql.conf'),
      `include '${join(REPO, 'infra/failover/postgres/failover.conf')}'\nlisten_addresses = '127.0.0.1'\nshared_buffers = 16MB\n`,
      { flag: 'a' },
    );
    writeFileSync(
      join(primaryDir, 'pg_hba.conf'),
      'host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n',
    );
    start(primaryDir, primaryPort);
    await waitReady(primaryPort);
    run([
      `${PG_BIN}/pg_basebackup`,
      '-h',
      '127.0.0.1',
      '-p',
      String(primaryPort),
      '-U',
      'postgres',
      '-D',
      replicaDir,
      '-R',
      '-X',
      'stream',
      '-C',
      '-S',
      'bench',
    ]);
    chmodSync(replicaDir, 0o700);
    start(replicaDir, replicaPort);
    await waitReady(replicaPort);
    const client = new pg.Client({
      host: '127.0.0.1',
      port: primaryPort,
      user: 'postgres',
      database: 'postgres',
    });
    await client.connect();
    try {
      await client.query(
        'create table writes (id serial primary key, at timestamptz default now(), body text)',
      );
      const samples: number[] = [];
      const until = performance.now() + seconds * 1_000;
      let nextSample = performance.now() + 1_000;
      while (performance.now() < until) {
        await client.query('insert into writes (body) values ($1)', ['x'.repeat(200)]);
        if (performance.now() >= nextSample) {
          nextSample += 1_000;
          const { rows } = await client.query<{ ms: number | null }>(
            `select extract(epoch from replay_lag)::float8 * 1000 as ms from pg_stat_replication where state = 'streaming'`,
          );
          samples.push(rows[0]?.ms ?? 0);
        }
        await sleep(100);
      }
      return samples;
    } finally {
      await client.end();
    }
  } finally {
    for (const server of servers.reverse()) await server.kill('SIGKILL').catch(() => undefined);
  }
}
