/**
 * The backup CLI (what `make backup`, `make restore` and scripts/deploy.sh run in the backup container):
 *
 *   backup [--reason manual|deploy]       take a backup now; prints its name
 *   list [--json]                         the good backups, oldest first
 *   check <name>                          verify a backup's files against its manifest
 *   restore <name> [--database NAME] [--replace]
 *                                         put a backup back (stop the stack first: `make restore` does)
 *
 * Configured by the same environment as the service. Exit codes: 0 done, 1 failed, 75 another backup or
 * restore is running, 78 bad configuration.
 */
import { loadConfigOrExit } from '@ibstack/config';
import { createLogger } from '@ibstack/observability';
import { Command, InvalidArgumentError } from 'commander';

import { BackupReason } from './backup-set';
import { BackupStore } from './backup-store';
import { backupEnv, standbyCheck } from './config';
import { BackupBusyError } from './errors';
import { restoreBackup, verifyBackup } from './restore';
import { takeBackup } from './take-backup';

const config = loadConfigOrExit('backup', backupEnv, process.env, { checks: [standbyCheck] });
const logger = createLogger({
  service: 'backup',
  level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL,
});
const store = new BackupStore(config.BACKUP_DIR);

function fail(error: unknown): never {
  process.stderr.write(`backup: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof BackupBusyError ? 75 : 1);
}

const megabytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;

const program = new Command('backup')
  .description('ibstack backups: take, list, restore')
  .showHelpAfterError();

program
  .command('backup')
  .description('take a backup now')
  .option('--reason <reason>', 'manual or deploy', (value) => {
    const parsed = BackupReason.safeParse(value);
    if (!parsed.success || value === 'scheduled') throw new InvalidArgumentError('must be manual or deploy');
    return parsed.data;
  })
  .action(async (options: { reason?: BackupReason }) => {
    try {
      const result = await takeBackup(config, { store, logger }, options.reason ?? 'manual');
      process.stdout.write(
        `${result.name} (${megabytes(result.bytes)}, ${(result.durationMs / 1000).toFixed(1)} s)${
          result.skipped.length > 0 ? `; not there, skipped: ${result.skipped.join(', ')}` : ''
        }${result.pruned.length > 0 ? `; deleted the oldest: ${result.pruned.join(', ')}` : ''}\n`,
      );
      if (result.standby.error)
        fail(new Error(`backup kept, but the copy to the standby failed: ${result.standby.error}`));
    } catch (error) {
      fail(error);
    }
  });

program
  .command('list')
  .description('the good backups, oldest first')
  .option('--json', 'one JSON array')
  .action((options: { json?: boolean }) => {
    const backups = store.list();
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify(backups.map(({ name, path, bytes, manifest }) => ({ name, path, bytes, finishedAt: manifest.finishedAt, reason: manifest.reason })))}\n`,
      );
      return;
    }
    if (backups.length === 0) process.stdout.write(`no backups in ${config.BACKUP_DIR}\n`);
    for (const backup of backups)
      process.stdout.write(
        `${backup.name}  ${megabytes(backup.bytes).padStart(10)}  ${backup.manifest.directories.map((entry) => entry.name).join(' ')}\n`,
      );
  });

program
  .command('check')
  .description("verify a backup's files against its manifest")
  .argument('<backup>', 'a name from `list`, or a path to a backup')
  .action(async (backup: string) => {
    try {
      const found = store.find(backup);
      await verifyBackup(found);
      process.stdout.write(`${found.name}: complete, every file matches its manifest\n`);
    } catch (error) {
      fail(error);
    }
  });

program
  .command('restore')
  .description('put a backup back: the database, then the state directories')
  .argument('<backup>', 'a name from `list`, or a path to a backup')
  .option('--database <name>', 'restore into this database on the same server instead of DATABASE_URL’s')
  .option('--replace', 'drop and recreate the database if it has tables')
  .action(async (backup: string, options: { database?: string; replace?: boolean }) => {
    try {
      let databaseUrl: string | undefined;
      if (options.database) {
        if (!/^[A-Za-z0-9_]+$/.test(options.database))
          throw new Error('--database: letters, digits and _ only');
        const url = new URL(config.DATABASE_URL);
        url.pathname = `/${options.database}`;
        databaseUrl = url.toString();
      }
      const result = await restoreBackup(
        config,
        { store, logger },
        { backup, databaseUrl, replace: options.replace },
      );
      process.stdout.write(
        `restored ${result.backup} into database ${result.database}${
          result.directories.length > 0 ? ` and ${result.directories.join(', ')}` : ''
        }${result.notRestored.length > 0 ? `; not configured here, left out: ${result.notRestored.join(', ')}` : ''}\n`,
      );
    } catch (error) {
      fail(error);
    }
  });

program.parseAsync().catch(fail);
