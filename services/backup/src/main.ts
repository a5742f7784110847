// Wiring only: configuration, the backup directory, the scheduler, its HTTP endpoints, a clean stop.
import { loadConfigOrExit } from '@ibstack/config';
import { createLogger, createRegistry, startHealthServer, stopOnSignals } from '@ibstack/observability';

import { pingDatabase } from './adapters/postgres';
import { BackupStore } from './backup-store';
import { backupEnv, standbyCheck } from './config';
import { createBackupService } from './service';

async function main(): Promise<void> {
  const config = loadConfigOrExit('backup', backupEnv, process.env, { checks: [standbyCheck] });
  const logger = createLogger({ service: 'backup', level: config.LOG_LEVEL });
  const registry = createRegistry('backup');
  const store = new BackupStore(config.BACKUP_DIR);
  const service = createBackupService(config, { store, logger, registry });
  const health = await startHealthServer({
    port: config.HTTP_PORT,
    registry,
    checks: [{ name: 'postgres', check: () => pingDatabase(config.DATABASE_URL) }],
  });
  logger.info(
    {
      port: health.port,
      directory: config.BACKUP_DIR,
      keep: config.BACKUP_KEEP,
      intervalMinutes: config.BACKUP_INTERVAL_MINUTES,
      stateDirectories: config.BACKUP_STATE_DIRS.map((directory) => directory.name),
      standby: config.BACKUP_STANDBY_TARGET ?? null,
    },
    'backup service started',
  );
  stopOnSignals(logger, async () => {
    await service.stop();
    await health.close();
  });
  service.start();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `backup: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
