/**
 * The Grafana dashboards, proven without a Grafana server: the committed JSON is what the code builds,
 * every panel uses the provisioned datasource, every query parses and type-checks in Prometheus 2.42
 * (as a recording rule under promtool), and each dashboard shows what the issue asks of it. Whether
 * every metric they use is exported is checked against a running stack (metrics-inventory.int.test.ts).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parse, stringify } from 'yaml';

import {
  allDashboards,
  dashboardFileText,
  metricNames,
  paths,
  runTool,
  withGrafanaVariablesResolved,
} from '../src';

interface Target {
  expr: string;
  refId: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id?: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}
interface DashboardJson {
  uid: string;
  title: string;
  panels: Panel[];
}

const committed = (): Record<string, DashboardJson> =>
  Object.fromEntries(
    readdirSync(paths.grafanaDashboardsDir)
      .filter((file) => file.endsWith('.json'))
      .map((file) => [
        file,
        JSON.parse(readFileSync(join(paths.grafanaDashboardsDir, file), 'utf8')) as DashboardJson,
      ]),
  );
const queries = (dashboard: DashboardJson) =>
  dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })));

describe('grafana dashboards', () => {
  it('are committed exactly as the code builds them (npm run dashboards)', () => {
    const built = allDashboards();
    expect(Object.keys(committed()).sort()).toEqual(Object.keys(built).sort());
    for (const [file, dashboard] of Object.entries(built))
      expect(readFileSync(join(paths.grafanaDashboardsDir, file), 'utf8')).toBe(dashboardFileText(dashboard));
  });

  it('use only the provisioned datasource, by its uid, on every panel and query', () => {
    const provisioned = readdirSync(join(paths.grafanaProvisioningDir, 'datasources')).flatMap(
      (file) =>
        (
          parse(readFileSync(join(paths.grafanaProvisioningDir, 'datasources', file), 'utf8')) as {
            datasources: Array<{ uid: string; type: string }>;
          }
        ).datasources,
    );
    expect(provisioned).toEqual([expect.objectContaining({ uid: 'prometheus', type: 'prometheus' })]);
    const refs = Object.values(committed()).flatMap((dashboard) =>
      dashboard.panels
        .filter((panel) => panel.type !== 'row')
        .flatMap((panel) => [panel.datasource, ...(panel.targets ?? []).map((target) => target.datasource)]),
    );
    expect(refs.length).toBeGreaterThan(100);
    expect(new Set(refs.map((ref) => `${ref?.type}/${ref?.uid}`))).toEqual(
      new Set(['prometheus/prometheus']),
    );
  });

  it('have unique uids, unique panel ids and a provider that loads them', () => {
    const dashboards = Object.values(committed());
    expect(new Set(dashboards.map((dashboard) => dashboard.uid)).size).toBe(dashboards.length);
    for (const dashboard of dashboards) {
      const ids = dashboard.panels.map((panel) => panel.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((id) => typeof id === 'number')).toBe(true);
    }
    const provider = parse(
      readFileSync(join(paths.grafanaProvisioningDir, 'dashboards', 'ibstack.yml'), 'utf8'),
    ) as { providers: Array<{ type: string; options: { path: string } }> };
    expect(provider.providers).toEqual([
      expect.objectContaining({
        type: 'file',
        options: expect.objectContaining({ path: '/var/lib/grafana/dashboards' }) as unknown,
      }),
    ]);
  });

  it('have queries that parse and type-check in Prometheus (promtool check rules)', async () => {
    const rules = Object.entries(committed()).flatMap(([file, dashboard]) =>
      queries(dashboard).map(({ panel, target }, index) => ({
        record: `dashboard:${file.replace(/\W/g, '_')}:${index}`,
        expr: withGrafanaVariablesResolved(target.expr),
        labels: { panel: `${panel.title} ${target.refId}` },
      })),
    );
    expect(rules.length).toBeGreaterThan(80);
    expect(rules.filter((rule) => rule.expr.includes('$'))).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'ibstack-dashboards-'));
    try {
      const file = join(dir, 'dashboard-queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
      const result = await runTool('promtool', ['check', 'rules', file]);
      expect(result.output).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('and promtool does catch a query that does not type-check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ibstack-dashboards-'));
    try {
      const file = join(dir, 'bad.yml');
      writeFileSync(
        file,
        stringify({ groups: [{ name: 'bad', rules: [{ record: 'bad:x', expr: 'rate(up)' }] }] }),
      );
      const result = await runTool('promtool', ['check', 'rules', file]);
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/expected type range vector/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      'trading.json',
      [
        'strategy_nav_usd',
        'strategy_daily_pnl_usd',
        'strategy_daily_return_pct',
        'strategy_drawdown_pct',
        'strategy_hwm_usd',
        'portfolio_gross_exposure_usd',
        'portfolio_net_exposure_usd',
        'sleeve_exposure_pct',
        'sleeve_pnl_usd',
      ],
    ],
    [
      'orders.json',
      [
        'ib_orders_submitted_total',
        'ib_orders_filled_total',
        'ib_orders_rejected_total',
        'ibstack:orders_rejected:ratio_1h',
        'ibstack:orders_rejected:ratio_30d',
        'ib_order_latency_seconds_bucket',
      ],
    ],
    [
      'gateway.json',
      [
        'gateway_state',
        'gateway_ready',
        'ib_reconnect_total',
        'ib_heartbeat_timeouts_total',
        'gateway_two_factor_pending_seconds',
        'ib_connection_up',
      ],
    ],
    [
      'market-data.json',
      [
        'md_last_tick_unix',
        'md_staleness_seconds',
        'md_ticks_total',
        'md_bars_total',
        'md_backfill_progress_ratio',
        'md_gap_repairs_total',
        'md_gap_missing_bars',
      ],
    ],
    [
      'system.json',
      [
        'up',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_p99_seconds',
        'bus_connected',
        'gnatsd_varz_connections',
        'pg_up',
        'node_cpu_seconds_total',
        'node_memory_MemAvailable_bytes',
        'node_filesystem_avail_bytes',
      ],
    ],
  ])('%s shows what the issue asks of it', (file, wanted) => {
    const dashboard = committed()[file]!;
    const used = new Set(
      queries(dashboard).flatMap(({ target }) => metricNames(withGrafanaVariablesResolved(target.expr))),
    );
    expect(wanted.filter((metric) => !used.has(metric))).toEqual([]);
  });
});
