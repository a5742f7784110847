/**
 * The backup service: a backup when one is due (an interval after the newest good one, so a restart does
 * not take an extra one), on a schedule after that, with the outcome in the metrics. Backups for a deploy
 * or by hand go through the CLI (`make backup`) and share the lock, so two never run at once.
 */
import type { Logger } from '@ibstack/observability';
import type { Registry } from 'prom-client';

import { nextBackupDue } from './backup-set';
import type { BackupStore } from './backup-store';
import type { BackupEnv } from './config';
import { BackupBusyError } from './errors';
import { backupMetrics } from './metrics';
import { type BackupResult, takeBackup } from './take-backup';

export interface BackupService {
  start(): void;
  /** Runs a scheduled backup now (tests; the CLI takes manual ones). */
  runNow(): Promise<BackupResult | null>;
  stop(): Promise<void>;
}

export function createBackupService(
  config: BackupEnv,
  deps: { store: BackupStore; logger: Logger; registry: Registry; now?: () => Date },
): BackupService {
  const now = deps.now ?? (() => new Date());
  const intervalMs = config.BACKUP_INTERVAL_MINUTES * 60_000;
  const metrics = backupMetrics(deps.registry, deps.store, intervalMs / 1000);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<BackupResult | null> | undefined;
  let stopped = false;
  let lastRunFailed = false;

  const run = async (): Promise<BackupResult | null> => {
    const started = Date.now();
    try {
      const result = await takeBackup(config, { store: deps.store, logger: deps.logger, now }, 'scheduled');
      const ok = result.standby.error === undefined;
      metrics.runs.inc({ result: ok ? 'success' : 'standby copy failed' });
      metrics.lastRunSuccess.set(ok ? 1 : 0);
      lastRunFailed = !ok;
      if (result.standby.copied) metrics.standbyCopy.set(Date.now() / 1000);
      return result;
    } catch (error) {
      if (error instanceof BackupBusyError) {
        deps.logger.info({ reason: error.message }, 'scheduled backup skipped: another one is running');
        return null;
      }
      metrics.runs.inc({ result: 'failure' });
      metrics.lastRunSuccess.set(0);
      lastRunFailed = true;
      deps.logger.error({ err: error }, 'backup failed; the earlier backups are kept');
      return null;
    } finally {
      metrics.lastDuration.set((Date.now() - started) / 1000);
    }
  };

  const schedule = () => {
    if (stopped) return;
    const newest = deps.store.newest();
    const due = nextBackupDue(newest ? new Date(newest.manifest.finishedAt) : null, intervalMs, now());
    // A failed run is retried after a tenth of the interval rather than a whole one.
    const untilDue = due.getTime() - now().getTime();
    const delay = Math.max(0, lastRunFailed ? Math.min(untilDue, intervalMs / 10) : untilDue);
    deps.logger.info({ due: new Date(now().getTime() + delay).toISOString() }, 'next backup scheduled');
    timer = setTimeout(() => {
      running = run();
      void running.finally(() => {
        running = undefined;
        schedule();
      });
    }, delay);
  };

  return {
    start: () => {
      deps.store.ensure();
      schedule();
    },
    runNow: () => run(),
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
