/**
 * The failover drill (issue 16), for real: four network namespaces as hosts — primary, standby, witness
 * and ibkr (the simulated gateway) — with userspace WireGuard between the three peers, a three-node NATS
 * JetStream cluster (infra/failover/nats/cluster.conf, R3 streams and KV), Postgres streaming replication
 * (infra/failover/postgres), execution and the failover agent on each trading host, the demo sleeve
 * trading. Scenarios, in order, each bounded in time:
 *
 *   1. losing the witness alone changes nothing (same lease epoch, trading goes on);
 *   2. losing the standby alone changes nothing but the primary's agent says it is not ready;
 *   3. the primary is cut off (link down, processes killed): the standby takes over, reconciles, trades,
 *      and the books of the promoted database agree with the broker;
 *   4. the former primary returns: it sends nothing and rejoins as the standby (pg_rewind);
 *   5. the (new) primary stays alive but is partitioned from the standby and the witness: it stops
 *      sending before its lease can be taken (checked on the broker's own receive times against the
 *      taker's fence), the other host takes over, the books agree;
 *   6. the partition heals: the former holder, whose Postgres still takes writes but was replaced by
 *      the promoted one (an earlier timeline), sends nothing, never takes the lease, and is the one
 *      rewound into a replica; the promoted host is never rewound and trades on; the books agree.
 *
 * Everything runs inside the namespaces this test makes (never the shared 5432/4222); they, their
 * processes and the temp directory are removed afterwards.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { connectDatabase, type DatabaseHandle } from '@ibstack/db';
import { sql } from 'kysely';
import { eventually, type SpawnedProcess } from '@ibstack/test-kit';

import { HOSTS, type HostName, Lab, sh, WIREGUARD_ADDRESS } from './lab';

const ROOT = join(__dirname, '..', '..', '..');
const PG_BIN = '/usr/lib/postgresql/15/bin';
// The holder gives up after ¾ of it without a renewal: that must outlast a NATS 2.9 Raft election after
// the bucket's leader node is lost (4–9 s), or losing the witness would move the lease.
const LEASE_TTL_MS = Number(process.env.DRILL_LEASE_TTL_MS ?? '15000');
const TRADING_HOSTS = ['primary', 'standby'] as const;
type TradingHost = (typeof TRADING_HOSTS)[number];
const other = (host: TradingHost): TradingHost => (host === 'primary' ? 'standby' : 'primary');

interface SimOrder {
  orderId: number;
  orderRef: string;
}
interface SimTimeline {
  orders: Array<{ orderId: number; orderRef: string; receivedAt: number }>;
}
interface SimExecution {
  execId: string;
}
interface SimPosition {
  instrument: string;
  quantity: number;
}
interface AgentStatus {
  lease: { holder: string; epoch: number; postgres?: { systemId: string; timeline: number } } | null;
  postgres: { inRecovery: boolean | null; readOnly: boolean; timeline: number | null };
  lastAction: string;
}

/** Failover times (cut → first new order at the broker from the taker), for `npm run bench`. */
const drillTimings: Array<{ scenario: string; failoverMs: number }> = [];
/** The primary's replay_lag for the standby (ms) while it trades, sampled every LAG_SAMPLE_MS. */
const replicationLagMs: number[] = [];
const LAG_SAMPLE_MS = 1_000;

describe('failover drill on network namespaces', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ibstack-drill-'));
  const lab = new Lab(dir, ROOT);
  /**
   * One handle per host, shared by concurrent callers (the lag sampler runs beside the scenarios): two
   * callers opening one each leaked the other, whose socket kept jest from exiting after the drill.
   */
  const databases = new Map<TradingHost, Promise<DatabaseHandle>>();
  const processes: SpawnedProcess[] = [];
  const simUrl = () => `http://${lab.underlay.ibkr}:9400`;

  const began = performance.now();
  /** Progress on stderr (not buffered by jest), so a slow or stuck drill shows where it is. */
  const note = (message: string) =>
    process.stderr.write(`drill +${((performance.now() - began) / 1000).toFixed(1)} s: ${message}\n`);

  const asPostgres = (args: readonly string[]) => [
    'setpriv',
    '--reuid=postgres',
    '--regid=postgres',
    '--init-groups',
    '--',
    ...args,
  ];

  const dataDir = (host: TradingHost) => join(dir, 'pg', host);

  function natsUrl(host: HostName): string {
    // The local node first (clients keep the listed order), then the others.
    const order = [host, ...HOSTS.filter((name) => name !== host)];
    return order.map((name) => `nats://${WIREGUARD_ADDRESS[name]}:4222`).join(',');
  }

  function startNats(host: HostName): void {
    const store = lab.makeDir('nats', host);
    const child = lab.spawn(host, 'nats-server', ['-c', join(ROOT, 'infra/failover/nats/cluster.conf')], {
      NATS_SERVER_NAME: host,
      NATS_HOST: WIREGUARD_ADDRESS[host],
      NATS_STORE_DIR: store,
      NATS_ROUTE_1: `nats-route://${WIREGUARD_ADDRESS.primary}:6222`,
      NATS_ROUTE_2: `nats-route://${WIREGUARD_ADDRESS.standby}:6222`,
      NATS_ROUTE_3: `nats-route://${WIREGUARD_ADDRESS.witness}:6222`,
    });
    processes.push(child);
  }

  async function startPostgres(host: TradingHost): Promise<void> {
    const [command, ...args] = asPostgres([`${PG_BIN}/postgres`, '-D', dataDir(host)]);
    const child = lab.spawn(host, command!, args);
    processes.push(child);
    await eventually(
      async () => {
        await lab.exec(host, `${PG_BIN}/pg_isready`, ['-h', '127.0.0.1', '-p', '5432', '-q']);
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  }

  function serviceEnv(host: TradingHost): NodeJS.ProcessEnv {
    return {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/ibstack',
      NATS_URL: natsUrl(host),
      NATS_REPLICAS: '3',
      IB_HOST: lab.underlay.ibkr,
      IB_PORT: '4002',
      INSTRUMENTS: 'EUR.CAD',
      BACKFILL_DAYS: '0.05',
      SLEEVES_FILE: join(dir, 'drill-sleeves.yaml'),
      LEASE_TTL_MS: String(LEASE_TTL_MS),
      INSTANCE_ID: host,
      NO_COLOR: '1',
    };
  }

  /** Ingestor and strategy: what the takeover command starts and the standdown command stops. */
  const servicesScript = join(dir, 'trading-services.sh');

  /**
   * A trading host's service as compose runs it (restart: unless-stopped): restarted a second after it
   * exits (a rewind restarts Postgres under it; NATS may still be starting). Output: <host>-<name>.log.
   */
  function startService(host: TradingHost, name: string, entry: string, env: NodeJS.ProcessEnv): void {
    const log = join(dir, `${host}-${name}.log`);
    processes.push(
      lab.spawn(
        host,
        'sh',
        [
          '-c',
          `while :; do ${process.execPath} --import tsx ${join(ROOT, entry)} >>${log} 2>&1; echo "exited $?" >>${log}; sleep 1; done`,
        ],
        { LOG_LEVEL: 'info', ...env },
      ),
    );
  }

  function startTradingHost(host: TradingHost): void {
    startService(host, 'execution', 'services/execution/src/main.ts', {
      ...serviceEnv(host),
      HTTP_PORT: '9403',
    });
    startService(host, 'failover-agent', 'services/failover-agent/src/main.ts', {
      ...serviceEnv(host),
      HTTP_PORT: '9407',
      FAILOVER_HOST: host,
      FAILOVER_CHECK_INTERVAL_MS: '250',
      NATS_MONITOR_URL: `http://${WIREGUARD_ADDRESS[host]}:8222`,
      WIREGUARD_INTERFACE: lab.wgInterfaceOf(host),
      FAILOVER_REPLICATION_SOURCES: JSON.stringify({
        primary: `host=${WIREGUARD_ADDRESS.primary} port=5432 user=postgres`,
        standby: `host=${WIREGUARD_ADDRESS.standby} port=5432 user=postgres`,
      }),
      FAILOVER_REJOIN_COMMAND: JSON.stringify(
        asPostgres([join(dir, 'rejoin.sh'), dataDir(host), '{source}', '{slot}']),
      ),
      FAILOVER_TAKEOVER_COMMAND: JSON.stringify([servicesScript, 'start', host]),
      FAILOVER_STANDDOWN_COMMAND: JSON.stringify([servicesScript, 'stop', host]),
      PG_BIN,
    });
  }

  async function agentStatus(host: TradingHost): Promise<AgentStatus> {
    const response = await fetch(`http://${lab.underlay[host]}:9407/status`, {
      signal: AbortSignal.timeout(3_000),
    });
    return (await response.json()) as AgentStatus;
  }

  async function metric(host: TradingHost, port: number, name: string): Promise<number> {
    const text = await (
      await fetch(`http://${lab.underlay[host]}:${port}/metrics`, { signal: AbortSignal.timeout(3_000) })
    ).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
  }

  /** Every NATS node answers /healthz: JetStream current with the meta leader and all its streams. */
  async function clusterCurrent(): Promise<void> {
    await eventually(
      async () => {
        for (const host of HOSTS)
          await lab.exec(host, 'curl', ['-fsS', '-m', '3', `http://${WIREGUARD_ADDRESS[host]}:8222/healthz`]);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  }

  async function sim<T>(path: string): Promise<T> {
    return (await (await fetch(`${simUrl()}${path}`, { signal: AbortSignal.timeout(5_000) })).json()) as T;
  }

  function database(host: TradingHost): Promise<DatabaseHandle> {
    let handle = databases.get(host);
    if (!handle) {
      const opening = connectDatabase(`postgres://postgres@${lab.underlay[host]}:5432/ibstack`, {
        maxConnections: 2,
      });
      // A failed connect is not kept: the next caller tries again.
      opening.catch(() => databases.get(host) === opening && databases.delete(host));
      databases.set(host, (handle = opening));
    }
    return handle;
  }

  async function closeDatabase(host: TradingHost): Promise<void> {
    const handle = databases.get(host);
    databases.delete(host);
    await handle?.then((opened) => opened.close()).catch(() => undefined);
  }

  async function filledOrders(host: TradingHost): Promise<number> {
    const rows = await (
      await database(host)
    ).db
      .selectFrom('orders')
      .select('id')
      .where('status', 'in', ['filled', 'partially_filled'])
      .execute();
    return rows.length;
  }

  /** The sim's orders and executions are exactly the holder's books; positions agree. */
  async function expectBooksToAgree(host: TradingHost): Promise<void> {
    await eventually(
      async () => {
        const db = (await database(host)).db;
        const simOrders = await sim<SimOrder[]>('/admin/orders');
        const orders = await db
          .selectFrom('orders')
          .select(['intent_id'])
          .where('broker_order_id', 'is not', null)
          .execute();
        expect(new Set(simOrders.map((order) => order.orderRef)).size).toBe(simOrders.length);
        expect(simOrders.map((order) => order.orderRef).sort()).toEqual(
          orders.map((order) => order.intent_id).sort(),
        );
        const intents = await db.selectFrom('order_intents').select('intent_id').execute();
        const intentIds = new Set(intents.map((intent) => intent.intent_id));
        expect(simOrders.filter((order) => !intentIds.has(order.orderRef))).toEqual([]);
        const executions = await db
          .selectFrom('executions')
          .select('exec_id')
          .where('superseded_by', 'is', null)
          .execute();
        const simExecutions = await sim<SimExecution[]>('/admin/executions');
        expect(executions.map((row) => row.exec_id).sort()).toEqual(
          simExecutions.map((row) => row.execId).sort(),
        );
        const positions = await db.selectFrom('positions').select(['instrument', 'quantity']).execute();
        const simPositions = await sim<SimPosition[]>('/admin/positions');
        expect(
          Object.fromEntries(
            positions.filter((p) => Number(p.quantity) !== 0).map((p) => [p.instrument, Number(p.quantity)]),
          ),
        ).toEqual(
          Object.fromEntries(
            simPositions
              .filter((p) => p.quantity !== 0)
              .map((p) => [p.instrument.replace('.', ''), p.quantity]),
          ),
        );
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
  }

  /**
   * The taker reconciled with the broker before its first order under the new epoch: its first run
   * after taking the fence has trigger `lease_acquired` (execution records that for a lease it had to
   * wait for; `reconnect` if the session was already kicked once), and before that order there is a
   * clean run and no mismatch. A run that could not compare
   * (the session dropped under it: the drill's takeover command kicks every gateway session, as a login
   * at IBKR kicks the other host's) is followed by a clean one on the reconnect.
   */
  async function expectReconciledBeforeTrading(host: TradingHost, epoch: number): Promise<void> {
    const db = (await database(host)).db;
    const first = await db
      .selectFrom('orders')
      .select(['created_at'])
      .where('leader_epoch', '=', epoch)
      .orderBy('created_at')
      .executeTakeFirstOrThrow();
    const fence = await db.selectFrom('leader_fence').select(['updated_at']).executeTakeFirstOrThrow();
    const runs = await db
      .selectFrom('reconciliation_runs')
      .select(['trigger', 'ok', 'error', 'started_at', 'finished_at'])
      .where('started_at', '>=', new Date(new Date(fence.updated_at).getTime() - 1_000))
      .where('finished_at', '<=', new Date(first.created_at))
      .orderBy('started_at')
      .execute();
    // `reconnect` when the takeover's kick landed on the fresh session before its first run started.
    expect(['lease_acquired', 'reconnect']).toContain(runs[0]?.trigger);
    expect(runs.filter((run) => run.ok)).not.toEqual([]);
    expect(runs.filter((run) => !run.ok && run.error === null)).toEqual([]);
  }

  /**
   * Never two senders: in the order the broker received them, every order's epoch (from the holder's
   * books) is at least the one before, and no order of an earlier epoch arrived after the current epoch
   * took the fence (so the former holder had stopped before its lease could be taken).
   */
  async function expectOneSenderAtATime(host: TradingHost): Promise<void> {
    const db = (await database(host)).db;
    const rows = await db.selectFrom('orders').select(['intent_id', 'leader_epoch']).execute();
    const epochOf = new Map(rows.map((row) => [row.intent_id, Number(row.leader_epoch)]));
    const fence = await db
      .selectFrom('leader_fence')
      .select(['epoch', 'updated_at'])
      .executeTakeFirstOrThrow();
    const fencedAt = new Date(fence.updated_at).getTime();
    const seen = new Set<number>();
    const received = (await sim<SimTimeline>('/admin/timeline')).orders
      .filter((order) => !seen.has(order.orderId) && seen.add(order.orderId))
      .sort((a, b) => a.receivedAt - b.receivedAt)
      .map((order) => ({ ...order, epoch: epochOf.get(order.orderRef) ?? Number.NaN }));
    expect(received.filter((order) => !Number.isFinite(order.epoch))).toEqual([]);
    const backwards = received.filter(
      (order, index) => index > 0 && order.epoch < received[index - 1]!.epoch,
    );
    expect(backwards).toEqual([]);
    const late = received.filter(
      (order) => order.epoch < Number(fence.epoch) && order.receivedAt >= fencedAt,
    );
    expect(late).toEqual([]);
  }

  /** A standby ready to take over: replica streaming, its node current, its execution up and waiting. */
  async function standbyWaiting(host: TradingHost): Promise<void> {
    await eventually(
      async () => {
        expect(await metric(other(host), 9407, 'failover_standby_ready')).toBe(1);
        expect(await metric(host, 9403, 'execution_lease_holder')).toBe(0);
        expect((await agentStatus(host)).lease?.holder).toBe(other(host));
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  }

  /** Waits for the broker to accept a new order, and returns how long it took from `since`. */
  async function nextOrderAtBroker(since: number, known: number, timeoutMs = 120_000): Promise<number> {
    await eventually(
      async () => expect((await sim<SimOrder[]>('/admin/orders')).length).toBeGreaterThan(known),
      {
        timeoutMs,
        intervalMs: 250,
      },
    );
    return Math.round(performance.now() - since);
  }

  async function waitForHolder(host: TradingHost, timeoutMs = 60_000): Promise<number> {
    return eventually(
      async () => {
        const status = await agentStatus(host);
        expect(status.lease?.holder).toBe(host);
        expect(status.lease!.epoch).toBeGreaterThan(0); // 0: the key is won, the fence not yet taken
        expect(status.postgres).toMatchObject({ inRecovery: false, readOnly: false });
        // The lease names the holder's database: the one its agent sees.
        expect(status.lease!.postgres?.timeline).toBe(status.postgres.timeline);
        return status.lease!.epoch;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  beforeAll(async () => {
    expect(userInfo().uid).toBe(0); // namespaces and WireGuard need root, as on CI
    await lab.create();
    // The scripts run as the postgres user, from a directory it can read.
    for (const script of ['rejoin.sh', 'make-replica.sh']) {
      const target = join(dir, script);
      writeFileSync(target, readFileSync(join(ROOT, 'infra/failover/postgres', script)));
      chmodSync(target, 0o755);
    }
    writeFileSync(
      servicesScript,
      [
        '#!/bin/sh',
        '# start|stop <host>: the ingestor and the strategy of a trading host (the drill’s compose).',
        'set -eu',
        `dir=${dir}`,
        // Logging in at IBKR kicks the other host's session: the one gateway of the drill drops it.
        `[ "$1" = start ] && curl -fsS -m 10 -X POST http://${lab.underlay.ibkr}:9400/admin/drop-connections >/dev/null`,
        'for service in ingestor strategy; do',
        '  pidfile="$dir/$2-$service.pid"',
        '  if [ "$1" = start ]; then',
        '    port=9401; [ "$service" = strategy ] && port=9402',
        // Each host's ingestor has its own client id: a partitioned former holder's may still be connected.
        '    client=20; [ "$2" = standby ] && client=21',
        `    IB_CLIENT_ID=$client HTTP_PORT=$port nohup ${process.execPath} --import tsx ${ROOT}/services/$service/src/main.ts >>"$dir/$2-$service.log" 2>&1 &`,
        '    echo $! >"$pidfile"',
        '  elif [ -f "$pidfile" ]; then',
        '    kill -9 "$(cat "$pidfile")" 2>/dev/null || true',
        '    rm -f "$pidfile"',
        '  fi',
        'done',
        '',
      ].join('\n'),
    );
    chmodSync(servicesScript, 0o755);
    // The demo sleeve, crossing on every turn of the price (1 over 2 bars) so that an order follows a
    // takeover within a few bars, not minutes: the failover time measures the stack, not the signal.
    writeFileSync(
      join(dir, 'drill-sleeves.yaml'),
      readFileSync(join(ROOT, 'services/strategy/config/demo.yaml'), 'utf8')
        .replace(/fast: 2\b/, 'fast: 1')
        .replace(/slow: 5\b/, 'slow: 2')
        .replace(/maxOrdersPerMinute: 6\b/, 'maxOrdersPerMinute: 10'),
    );
    chmodSync(dir, 0o755);

    for (const host of HOSTS) startNats(host);
    processes.push(
      lab.spawn(
        'ibkr',
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'services/gateway-sim/src/main.ts')],
        {
          GATEWAY_SIM_HOST: '0.0.0.0',
          GATEWAY_SIM_PORT: '4002',
          HTTP_PORT: '9400',
          // A 1-minute bar every 4 s.
          GATEWAY_SIM_SPEED: '15',
          GATEWAY_SIM_MARKET_HOURS: 'always-open',
          // One quote a second: the drill shares two cores with everything else, and every tick is
          // replicated three times over userspace WireGuard.
          GATEWAY_SIM_TICK_INTERVAL_MS: '1000',
          LOG_LEVEL: 'warn',
        },
      ),
    );

    // The primary's Postgres, as infra/failover/postgres configures it.
    const primaryData = lab.makeDir('pg', 'primary');
    lab.makeDir('pg', 'standby');
    for (const path of [join(dir, 'pg'), primaryData, dataDir('standby')])
      chownSync(path, postgresUid(), postgresGid());
    chmodSync(primaryData, 0o700);
    chmodSync(dataDir('standby'), 0o700);
    const [initdb, ...initdbArgs] = asPostgres([
      `${PG_BIN}/initdb`,
      '-D',
      primaryData,
      '-A',
      'trust',
      '-U',
      'postgres',
    ]);
    await sh(initdb!, initdbArgs);
    writeFileSync(
      join(primaryData, 'postgresql.conf'),
      [
        `include '${join(ROOT, 'infra/failover/postgres/failover.conf')}'`,
        // Sockets live in one file system shared by every namespace: TCP only.
        "unix_socket_directories = ''",
        'port = 5432',
        'shared_buffers = 16MB',
        'max_connections = 60',
        '',
      ].join('\n'),
      { flag: 'a' },
    );
    writeFileSync(
      join(primaryData, 'pg_hba.conf'),
      ['host all all 0.0.0.0/0 trust', 'host replication all 0.0.0.0/0 trust', ''].join('\n'),
    );
    await startPostgres('primary');
    await lab.exec('primary', `${PG_BIN}/createdb`, ['-h', '127.0.0.1', '-U', 'postgres', 'ibstack']);
    await sh('ip', [
      'netns',
      'exec',
      lab.ns('primary'),
      'env',
      'DATABASE_URL=postgres://postgres@127.0.0.1:5432/ibstack',
      process.execPath,
      '--import',
      'tsx',
      join(ROOT, 'packages/db/src/cli/migrate.ts'),
    ]);
    // The standby copies it over WireGuard, with its slot.
    const [setpriv, ...makeReplica] = asPostgres([
      join(dir, 'make-replica.sh'),
      dataDir('standby'),
      `host=${WIREGUARD_ADDRESS.primary} port=5432 user=postgres`,
      'standby',
    ]);
    await eventually(() => lab.exec('standby', setpriv!, makeReplica), {
      timeoutMs: 60_000,
      intervalMs: 1_000,
    });
    await startPostgres('standby');

    // The primary trades (its services as compose starts them); the standby waits.
    startTradingHost('primary');
    await waitForHolder('primary', 90_000);
    note('the primary holds the lease');
    await lab.exec('primary', 'env', [
      ...Object.entries({ ...serviceEnv('primary'), LOG_LEVEL: 'warn' }).map(
        ([key, value]) => `${key}=${value}`,
      ),
      servicesScript,
      'start',
      'primary',
    ]);
    startTradingHost('standby');
    // While the primary trades (scenarios 1 and 2), its replay lag for the streaming standby.
    lagSampler = setInterval(() => {
      void (async () => {
        const { rows } = await sql<{ ms: number | null }>`
          select extract(epoch from replay_lag)::float8 * 1000 as ms from pg_stat_replication
          where state = 'streaming'`.execute((await database('primary')).db);
        if (rows[0]) replicationLagMs.push(rows[0].ms ?? 0);
      })().catch(() => undefined);
    }, LAG_SAMPLE_MS);
  }, 240_000);

  let lagSampler: NodeJS.Timeout | undefined;

  afterAll(async () => {
    if (lagSampler) clearInterval(lagSampler);
    const resultsFile = process.env.DRILL_RESULTS_FILE;
    if (resultsFile)
      writeFileSync(
        resultsFile,
        JSON.stringify({
          leaseTtlMs: LEASE_TTL_MS,
          timings: drillTimings,
          replicationLagMs,
        }),
      );
    for (const host of TRADING_HOSTS) await closeDatabase(host);
    await Promise.all(processes.map((child) => child.kill('SIGKILL').catch(() => undefined)));
    // DRILL_LOG_DIR keeps every process's output for a look after a failure.
    const keep = process.env.DRILL_LOG_DIR;
    if (keep) {
      mkdirSync(keep, { recursive: true });
      processes.forEach((child, index) =>
        writeFileSync(
          join(
            keep,
            `${index}-${child.child.spawnargs
              .slice(3, 7)
              .join(' ')
              .replace(/[^\w.-]+/g, '_')}.log`,
          ),
          child.lines.join('\n'),
        ),
      );
      await sh('sh', ['-c', `cp ${dir}/*.log ${keep}/ 2>/dev/null || true`]);
    }
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  afterEach(() => note(`done: ${expect.getState().currentTestName}`));

  it('trades on the primary; losing the witness alone changes nothing', async () => {
    await eventually(async () => expect(await filledOrders('primary')).toBeGreaterThanOrEqual(1), {
      timeoutMs: 150_000,
      intervalMs: 1_000,
    });
    await clusterCurrent();
    const epoch = (await agentStatus('primary')).lease!.epoch;
    await lab.cut('witness');
    note('witness cut');
    try {
      const orders = (await sim<SimOrder[]>('/admin/orders')).length;
      await nextOrderAtBroker(performance.now(), orders);
      expect((await agentStatus('primary')).lease).toMatchObject({ holder: 'primary', epoch });
    } finally {
      await lab.restoreLink('witness');
      await lab.startWireGuard('witness');
      startNats('witness');
    }
  }, 180_000);

  it('losing the standby alone changes nothing, but the primary’s agent says it is not ready', async () => {
    await eventually(async () => expect(await metric('primary', 9407, 'failover_standby_ready')).toBe(1), {
      timeoutMs: 60_000,
    });
    await clusterCurrent();
    const epoch = (await agentStatus('primary')).lease!.epoch;
    await lab.cut('standby');
    note('standby cut');
    try {
      await eventually(async () => expect(await metric('primary', 9407, 'failover_standby_ready')).toBe(0), {
        timeoutMs: 30_000,
      });
      const orders = (await sim<SimOrder[]>('/admin/orders')).length;
      await nextOrderAtBroker(performance.now(), orders);
      expect((await agentStatus('primary')).lease).toMatchObject({ holder: 'primary', epoch });
    } finally {
      // The standby comes back as it was: a replica, its node, execution waiting.
      await lab.restoreLink('standby');
      await lab.startWireGuard('standby');
      startNats('standby');
      await startPostgres('standby');
      startTradingHost('standby');
    }
    await standbyWaiting('standby');
  }, 180_000);

  it('the primary cut off while trading: the standby takes over, reconciles, trades, and the books agree', async () => {
    clearInterval(lagSampler);
    await standbyWaiting('standby');
    await clusterCurrent();
    await closeDatabase('primary');
    const orders = (await sim<SimOrder[]>('/admin/orders')).length;
    const cutAt = performance.now();
    await lab.cut('primary');
    note('primary cut');
    const epoch = await waitForHolder('standby', 60_000);
    note(`standby holds the lease at epoch ${epoch}, promoted`);
    const failoverMs = await nextOrderAtBroker(cutAt, orders, 150_000);
    note(`first order from the standby ${failoverMs} ms after the cut`);
    drillTimings.push({ scenario: 'primary cut off', failoverMs });
    expect(epoch).toBeGreaterThan(0);
    await expectReconciledBeforeTrading('standby', epoch);
    await expectBooksToAgree('standby');
    await expectOneSenderAtATime('standby');
  }, 240_000);

  it('the former primary returns: it sends nothing and rejoins as the standby', async () => {
    await lab.restoreLink('primary');
    await lab.startWireGuard('primary');
    startNats('primary');
    await startPostgres('primary');
    startTradingHost('primary');
    note('primary back');
    // Rewound into a replica of the new primary, streaming.
    await eventually(
      async () => {
        expect((await agentStatus('primary')).postgres.inRecovery).toBe(true);
        expect(await metric('primary', 9407, 'failover_replication_streaming')).toBe(1);
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    // …and replaying the new primary's WAL: the holder's fence (taken after the fork) arrives.
    await eventually(
      async () => {
        const fence = async (host: TradingHost) =>
          (await database(host)).db.selectFrom('leader_fence').select(['epoch', 'holder']).executeTakeFirst();
        expect(await fence('primary')).toEqual(await fence('standby'));
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    note('primary rewound and streaming');
    // A new order from the holder after the return is the barrier: the returned host sent nothing.
    const orders = (await sim<SimOrder[]>('/admin/orders')).length;
    await nextOrderAtBroker(performance.now(), orders);
    await eventually(
      async () => {
        expect(await metric('primary', 9403, 'execution_lease_holder')).toBe(0);
        expect(await metric('primary', 9403, 'ib_orders_submitted_total')).toBe(0);
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect((await agentStatus('standby')).lease?.holder).toBe('standby');
    await expectBooksToAgree('standby');
    await expectOneSenderAtATime('standby');
  }, 240_000);

  it('the holder partitioned but alive stops sending before its lease is taken; the other host takes over', async () => {
    const holder: TradingHost = 'standby';
    const taker = other(holder);
    await standbyWaiting(taker);
    await clusterCurrent();
    await closeDatabase(taker);
    const orders = (await sim<SimOrder[]>('/admin/orders')).length;
    const cutAt = performance.now();
    // Cut off from the other two peers (both ways), not from the gateway.
    await lab.partition(holder, [taker, 'witness']);
    note(`${holder} partitioned`);
    await eventually(async () => expect(await metric(holder, 9403, 'execution_lease_holder')).toBe(0), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    note(`${holder} stopped holding`);
    const epoch = await waitForHolder(taker, 60_000);
    note(`${taker} holds the lease at epoch ${epoch}, promoted`);
    const failoverMs = await nextOrderAtBroker(cutAt, orders, 150_000);
    note(`first order from ${taker} ${failoverMs} ms after the partition`);
    drillTimings.push({ scenario: 'primary partitioned', failoverMs });
    await expectReconciledBeforeTrading(taker, epoch);
    // Every order at the broker is in the taker's books: the partitioned host sent nothing unrecorded,
    // and nothing at all once its lease could be taken.
    await expectBooksToAgree(taker);
    await expectOneSenderAtATime(taker);
  }, 240_000);

  it('the partition heals: the former holder sends nothing, never takes the lease, and is the one rewound', async () => {
    const former: TradingHost = 'standby';
    const holder = other(former);
    const held = (await agentStatus(holder)).lease!;
    const formerView = (await agentStatus(former)).postgres;
    // The former holder's Postgres still takes writes, on the timeline the promotion left behind.
    expect(formerView).toMatchObject({ inRecovery: false, readOnly: false });
    expect(formerView.timeline).toBeLessThan(held.postgres!.timeline);
    // Sampled all along: the former holder never holds, the holder keeps the lease and its database.
    const violations: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await metric(former, 9403, 'execution_lease_holder')
          .then((value) => value !== 0 && violations.push(`${former}'s execution held the lease`))
          .catch(() => undefined); // restarting under its rewound Postgres
        await agentStatus(holder)
          .then((status) => {
            if (status.lease && status.lease.holder !== holder)
              violations.push(`lease held by ${status.lease.holder} at epoch ${status.lease.epoch}`);
            if (status.postgres.inRecovery !== false) violations.push(`${holder}'s Postgres not a primary`);
            if (status.lastAction === 'rejoin' || status.lastAction === 'fence')
              violations.push(`${holder}'s agent: ${status.lastAction}`);
          })
          .catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    try {
      await lab.heal(former, [holder, 'witness']);
      note(`${former} healed`);
      await eventually(
        async () => {
          expect((await agentStatus(former)).postgres.inRecovery).toBe(true);
          expect(await metric(former, 9407, 'failover_replication_streaming')).toBe(1);
        },
        { timeoutMs: 150_000, intervalMs: 500 },
      );
      await eventually(
        async () => {
          const fence = async (host: TradingHost) =>
            (await database(host)).db
              .selectFrom('leader_fence')
              .select(['epoch', 'holder'])
              .executeTakeFirst();
          await closeDatabase(former); // its server restarted under the rewind
          expect(await fence(former)).toEqual(await fence(holder));
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      note(`${former} rewound and streaming from ${holder}`);
      // The holder trades on after the heal.
      const orders = (await sim<SimOrder[]>('/admin/orders')).length;
      await nextOrderAtBroker(performance.now(), orders);
    } finally {
      sampling = false;
      await sampler;
    }
    expect(violations).toEqual([]);
    expect((await agentStatus(holder)).lease?.holder).toBe(holder);
    // Every order at the broker, before and after the heal, is the holder's, recorded once.
    await expectBooksToAgree(holder);
    await expectOneSenderAtATime(holder);
  }, 300_000);
});

function postgresUid(): number {
  return Number(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((line) => line.startsWith('postgres:'))!
      .split(':')[2],
  );
}
function postgresGid(): number {
  return Number(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((line) => line.startsWith('postgres:'))!
      .split(':')[3],
  );
}
