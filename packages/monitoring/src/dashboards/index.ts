import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

import { gatewayDashboard } from './gateway';
import { marketDataDashboard } from './market-data';
import { ordersDashboard } from './orders';
import { systemDashboard } from './system';
import { tradingDashboard } from './trading';

export { PROMETHEUS_DATASOURCE_UID } from './panels';

/** Every dashboard, by the file name it is provisioned from. */
export function allDashboards(): Record<string, dashboard.Dashboard> {
  return {
    'trading.json': tradingDashboard(),
    'orders.json': ordersDashboard(),
    'gateway.json': gatewayDashboard(),
    'market-data.json': marketDataDashboard(),
    'system.json': systemDashboard(),
  };
}

/** The file's text: stable formatting, so the committed files can be compared with a fresh build. */
export function dashboardFileText(built: dashboard.Dashboard): string {
  return `${JSON.stringify(built, null, 2)}\n`;
}
