import { join } from 'node:path';

/** The repository root, where prometheus/, alertmanager/ and grafana/ live. */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

export const paths = {
  prometheusConfig: join(REPO_ROOT, 'prometheus', 'prometheus.yml'),
  rulesDir: join(REPO_ROOT, 'prometheus', 'rules'),
  ruleTestsDir: join(REPO_ROOT, 'prometheus', 'tests'),
  alertmanagerConfig: join(REPO_ROOT, 'alertmanager', 'alertmanager.yml'),
  alertmanagerTemplatesDir: join(REPO_ROOT, 'alertmanager', 'templates'),
  grafanaDir: join(REPO_ROOT, 'grafana'),
  grafanaDashboardsDir: join(REPO_ROOT, 'grafana', 'dashboards'),
  grafanaProvisioningDir: join(REPO_ROOT, 'grafana', 'provisioning'),
  runbook: join(REPO_ROOT, 'infra', 'runbooks', 'alerts.md'),
} as const;
