import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  /** Rows in order, each a title and its panels. */
  rows: Array<[string, Array<cog.Builder<dashboard.Panel>>]>;
}

/** The lease holder only: a standby execution instance keeps the last values it saw. */
export const HOLDER = 'on (job, instance) (execution_lease_holder == 1)';

/**
 * Builds a dashboard as Grafana loads it from a provisioned file: fixed uid, read-only, 30 s refresh,
 * the last 6 hours, and panel ids assigned in order (Grafana would assign them on load otherwise, and
 * links to a panel need them stable).
 */
export function buildDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(['ibstack'])
    .readonly()
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair);
  for (const [title, panels] of spec.rows) {
    builder.withRow(new dashboard.RowBuilder(title));
    for (const panel of panels) builder.withPanel(panel);
  }
  const built = builder.build();
  let id = 1;
  for (const panel of built.panels ?? []) (panel as { id?: number }).id = id++;
  built.templating = { list: [] };
  built.annotations = {
    list: [
      {
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      },
    ],
  };
  return built;
}
