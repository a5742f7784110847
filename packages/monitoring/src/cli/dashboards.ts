/**
 * Writes the Grafana dashboards (grafana/dashboards/*.json) from their code in src/dashboards.
 * `npm run dashboards` after changing a dashboard; `-- --check` exits 1 when a committed file is not
 * what the code builds (CI runs the same comparison as a test).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { allDashboards, dashboardFileText } from '../dashboards';
import { paths } from '../paths';

const check = process.argv.includes('--check');
const stale: string[] = [];
for (const [file, built] of Object.entries(allDashboards())) {
  const target = join(paths.grafanaDashboardsDir, file);
  const text = dashboardFileText(built);
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (current === text) continue;
  if (check) stale.push(file);
  else {
    writeFileSync(target, text);
    console.log(`wrote grafana/dashboards/${file}`);
  }
}
if (stale.length > 0) {
  console.error(`out of date (run npm run dashboards): ${stale.join(', ')}`);
  process.exit(1);
}
