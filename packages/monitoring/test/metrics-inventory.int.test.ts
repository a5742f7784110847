/**
 * The metrics of a running stack (the runner of `npm start`, trading the demo sleeve against the
 * gateway-sim), beside Debian's node and Postgres exporters: everything the alert rules and dashboards
 * read exists; every service exports Node's process metrics with event-loop lag; labels use the same
 * words everywhere; the ops plan's order metrics carry its labels; and promtool's metric lint passes.
 */
import { eventually, type FakeTelegram, freePort, startFakeTelegram } from '@ibstack/test-kit';

import {
  BACKUP_SERVICE_METRICS,
  BLACKBOX_EXPORTER_METRICS,
  type Daemon,
  FAILOVER_AGENT_METRICS,
  exposedMetricNames,
  exposedSamples,
  type LocalStack,
  NATS_EXPORTER_METRICS,
  PROMETHEUS_SYNTHETIC_METRICS,
  recordedMetrics,
  runTool,
  simFault,
  startDaemon,
  startLocalStack,
  usedMetrics,
} from '../src';

/**
 * Published by the gateway supervisor (issue 11) once the runner starts it. Until then these are the only
 * names allowed to be missing; as soon as a `gateway-supervisor` service runs, they must all be there.
 */
const GATEWAY_SUPERVISOR_METRICS = [
  'gateway_state',
  'gateway_state_duration_seconds',
  'gateway_two_factor_pending_seconds',
  'gateway_logins_total',
  'gateway_last_login_unix',
  'gateway_ready',
  'gateway_probe_duration_seconds_bucket',
  'gateway_in_reset_window',
];

/** Label names in use, one word per concept (never `symbol` beside `instrument`, `svc` beside `service`). */
const LABEL_VOCABULARY = new Set([
  // ours
  'service',
  'instrument',
  'side',
  'sleeve',
  'reason',
  'stage',
  'event',
  'trigger',
  'result',
  'kind',
  'state',
  'by',
  'timeframe',
  'source',
  'operation',
  'method',
  'topic',
  'consumer',
  'code',
  'message',
  'outcome',
  'fault',
  'status',
  'route',
  // prom-client's default metrics and histograms
  'le',
  'quantile',
  'version',
  'major',
  'minor',
  'patch',
  'space',
  'type',
]);

const DEFAULT_PROCESS_METRICS = [
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
  'process_start_time_seconds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_heap_size_used_bytes',
];

describe('metrics of a running stack', () => {
  let stack: LocalStack | undefined;
  let telegram: FakeTelegram | undefined;
  let nodeExporter: Daemon | undefined;
  let postgresExporter: Daemon | undefined;
  const nodeExporterUrl = { value: '' };
  const postgresExporterUrl = { value: '' };

  const scrape = async (url: string) => {
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  };
  const scrapeServices = async () =>
    new Map(
      await Promise.all(
        stack!.services.map(async (service) => [service.name, await scrape(service.url)] as const),
      ),
    );
  const sum = (text: string, name: string) =>
    exposedSamples(text)
      .filter((sample) => sample.name === name)
      .reduce((total, sample) => total + sample.value, 0);

  beforeAll(async () => {
    // The notifier too, against a fake Bot API.
    telegram = await startFakeTelegram({ token: '7770001:inventory_test_token_not_a_real_one' });
    stack = await startLocalStack({
      speed: 30,
      telegram: {
        apiRoot: telegram.url,
        token: '7770001:inventory_test_token_not_a_real_one',
        chats: '4242:operator',
      },
    });
    const nodePort = await freePort();
    nodeExporterUrl.value = `http://127.0.0.1:${nodePort}`;
    nodeExporter = await startDaemon({
      name: 'node-exporter',
      command: 'prometheus-node-exporter',
      args: [`--web.listen-address=127.0.0.1:${nodePort}`],
      readyUrl: `${nodeExporterUrl.value}/metrics`,
    });
    const postgresPort = await freePort();
    postgresExporterUrl.value = `http://127.0.0.1:${postgresPort}`;
    const dataSource = new URL(stack.database.url);
    dataSource.searchParams.set('sslmode', 'disable');
    postgresExporter = await startDaemon({
      name: 'postgres-exporter',
      command: 'prometheus-postgres-exporter',
      args: [`--web.listen-address=127.0.0.1:${postgresPort}`],
      env: { PATH: process.env.PATH, DATA_SOURCE_NAME: dataSource.toString() },
      readyUrl: `${postgresExporterUrl.value}/metrics`,
    });
    // The demo sleeve trades; then one order is rejected by the broker, so every order metric has samples.
    const execution = stack.services.find((service) => service.name === 'execution')!;
    await eventually(
      async () => expect(sum(await scrape(execution.url), 'ib_orders_filled_total')).toBeGreaterThan(0),
      {
        timeoutMs: 180_000,
        intervalMs: 1_000,
      },
    );
    await simFault(stack.simUrl, 'reject-next-order', { reason: 'inventory test', code: 201 });
    await eventually(
      async () => expect(sum(await scrape(execution.url), 'ib_orders_rejected_total')).toBeGreaterThan(0),
      {
        timeoutMs: 180_000,
        intervalMs: 1_000,
      },
    );
  }, 420_000);

  afterAll(async () => {
    await nodeExporter?.stop();
    await postgresExporter?.stop();
    await stack?.stop();
    await telegram?.close();
  });

  it('exports every metric the alert rules and dashboards read (ours, or the named exporters)', async () => {
    const exported = new Set<string>([
      ...PROMETHEUS_SYNTHETIC_METRICS,
      ...NATS_EXPORTER_METRICS,
      ...BLACKBOX_EXPORTER_METRICS,
      ...BACKUP_SERVICE_METRICS,
      ...FAILOVER_AGENT_METRICS,
      ...recordedMetrics(),
    ]);
    for (const text of (await scrapeServices()).values())
      for (const name of exposedMetricNames(text)) exported.add(name);
    for (const name of exposedMetricNames(await scrape(nodeExporterUrl.value))) exported.add(name);
    const postgres = await scrape(postgresExporterUrl.value);
    expect(sum(postgres, 'pg_up')).toBe(1);
    for (const name of exposedMetricNames(postgres)) exported.add(name);

    const used = usedMetrics();
    const missing = [...used.keys()].filter((name) => !exported.has(name)).sort();
    const supervisorRuns = stack!.services.some((service) => service.name === 'gateway-supervisor');
    if (supervisorRuns) expect(Object.fromEntries(missing.map((name) => [name, used.get(name)]))).toEqual({});
    else expect(missing).toEqual([...GATEWAY_SUPERVISOR_METRICS].sort());
  });

  it('exports Node’s process metrics, event-loop lag included, from every service, labelled with its name', async () => {
    const services = await scrapeServices();
    expect([...services.keys()]).toEqual(
      expect.arrayContaining(['gateway-sim', 'ingestor', 'strategy', 'execution']),
    );
    for (const [service, text] of services) {
      const samples = exposedSamples(text);
      expect({
        service,
        missing: DEFAULT_PROCESS_METRICS.filter((name) => !samples.some((s) => s.name === name)),
      }).toEqual({
        service,
        missing: [],
      });
      expect({
        service,
        unlabelled: samples.filter((sample) => sample.labels.service !== service).map((s) => s.name),
      }).toEqual({
        service,
        unlabelled: [],
      });
    }
  });

  it('uses the same label names everywhere', async () => {
    const labels = new Map<string, Set<string>>();
    for (const text of (await scrapeServices()).values())
      for (const sample of exposedSamples(text))
        for (const label of Object.keys(sample.labels))
          labels.set(label, (labels.get(label) ?? new Set()).add(sample.name));
    const unknown = [...labels].filter(([label]) => !LABEL_VOCABULARY.has(label));
    expect(Object.fromEntries(unknown.map(([label, metrics]) => [label, [...metrics]]))).toEqual({});
  });

  it('labels the ib_orders_* metrics as the ops plan names them', async () => {
    const samples = exposedSamples((await scrapeServices()).get('execution')!);
    const labelSets = (name: string) =>
      new Set(
        samples
          .filter((sample) => sample.name === name)
          .map((sample) => Object.keys(sample.labels).sort().join(',')),
      );
    expect(labelSets('ib_orders_submitted_total')).toEqual(new Set(['instrument,service,side,sleeve']));
    expect(labelSets('ib_orders_filled_total')).toEqual(new Set(['instrument,service,side,sleeve']));
    expect(labelSets('ib_orders_rejected_total')).toEqual(new Set(['instrument,reason,service']));
    expect(samples).toContainEqual(
      expect.objectContaining({
        name: 'ib_orders_rejected_total',
        labels: { instrument: 'EURCAD', reason: '201', service: 'execution' },
      }),
    );
    expect(
      samples.filter((sample) => sample.name === 'ib_order_latency_seconds_count').map((s) => s.labels.stage),
    ).toEqual(expect.arrayContaining(['acknowledged', 'filled']));
  });

  it('passes promtool check metrics on every service, but for prom-client’s three *_total gauges', async () => {
    const knownFindings =
      /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;
    for (const [service, text] of await scrapeServices()) {
      const result = await runTool('promtool', ['check', 'metrics'], { input: text });
      const findings = result.output
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== '' && !knownFindings.test(line));
      expect({ service, findings }).toEqual({ service, findings: [] });
    }
  });
});
