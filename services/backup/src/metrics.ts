import { counter, gauge } from '@ibstack/observability';
import { Gauge, type Registry } from 'prom-client';

import type { BackupStore } from './backup-store';

/**
 * The backup service's metrics. The newest good backup's time and size, and how many there are, are read
 * from the backup directory at every scrape: a backup taken by `make backup` (another process) counts at
 * once, and a restart of the service forgets nothing.
 */
export function backupMetrics(registry: Registry, store: BackupStore, intervalSeconds: number) {
  gauge(registry, 'backup_interval_seconds', 'Time between scheduled backups').set(intervalSeconds);
  const fromDirectory = (
    name: string,
    help: string,
    read: (backups: ReturnType<BackupStore['list']>) => number,
  ) =>
    (registry.getSingleMetric(name) as Gauge | undefined) ??
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(store.list()));
      },
    });
  fromDirectory(
    'backup_last_success_timestamp_seconds',
    'When the newest good backup finished (0: there is none)',
    (backups) => (backups.length > 0 ? Date.parse(backups.at(-1)!.manifest.finishedAt) / 1000 : 0),
  );
  fromDirectory(
    'backup_last_size_bytes',
    'Size of the newest good backup, all its files together',
    (backups) => backups.at(-1)?.bytes ?? 0,
  );
  fromDirectory('backup_kept', 'Good backups in the backup directory', (backups) => backups.length);
  return {
    runs: counter(registry, 'backup_runs_total', 'Backup runs by result', ['result']),
    lastRunSuccess: gauge(
      registry,
      'backup_last_run_success',
      'Whether the last backup run (standby copy included) succeeded',
    ),
    lastDuration: gauge(registry, 'backup_last_duration_seconds', 'How long the last backup run took'),
    standbyCopy: gauge(
      registry,
      'backup_standby_copy_last_success_timestamp_seconds',
      'When the backups were last copied to the standby',
    ),
  };
}
export type BackupMetrics = ReturnType<typeof backupMetrics>;
