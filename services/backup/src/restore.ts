/**
 * Puts a backup back: checks every file against its manifest first, then the database (pg_restore into
 * an empty database: a fresh one, or the named one dropped and recreated when `replace` says so), then
 * each state directory whose name is configured here. The stack must be stopped while it runs (`make
 * restore` does that): a running service would write into the database being replaced.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import type { Logger } from '@ibstack/observability';

import { createDatabase, databaseState, libpqConnection, recreateDatabase } from './adapters/postgres';
import { runProgram } from './adapters/run-program';
import { DATABASE_FILE } from './backup-set';
import { type BackupStore, sha256File, type StoredBackup } from './backup-store';
import type { BackupEnv } from './config';
import { BackupStepError, RestoreRefusedError } from './errors';

export interface RestoreOptions {
  /** A backup's name (from `list`) or its path. */
  readonly backup: string;
  /** The database to restore into. @default DATABASE_URL */
  readonly databaseUrl?: string;
  /** Drop and recreate a database that has tables. Without it such a database is left alone. */
  readonly replace?: boolean;
}

export interface RestoreResult {
  readonly backup: string;
  readonly database: string;
  readonly directories: readonly string[];
  /** State directories in the backup that have no place configured here. */
  readonly notRestored: readonly string[];
}

/** Every file of a backup against its manifest's checksum; throws naming the first that differs. */
export async function verifyBackup(backup: StoredBackup): Promise<void> {
  const { manifest } = backup;
  for (const entry of [manifest.database, ...manifest.directories]) {
    const actual = await sha256File(join(backup.path, entry.file)).catch(() => 'missing');
    if (actual !== entry.sha256)
      throw new BackupStepError(
        'check',
        `${entry.file} does not match its manifest (damaged, altered or missing)`,
      );
  }
}

export async function restoreBackup(
  settings: Pick<BackupEnv, 'DATABASE_URL' | 'BACKUP_STATE_DIRS'>,
  deps: { store: BackupStore; logger: Logger },
  options: RestoreOptions,
): Promise<RestoreResult> {
  const lock = deps.store.lock('restore');
  try {
    const backup = deps.store.find(options.backup);
    const { manifest } = backup;
    await verifyBackup(backup);

    const url = options.databaseUrl ?? settings.DATABASE_URL;
    const state = await databaseState(url);
    if (state.exists && state.tables > 0 && !options.replace)
      throw new RestoreRefusedError(
        `the database ${new URL(url).pathname.slice(1)} has ${state.tables} tables; restore into a new database, or pass --replace to drop and recreate it`,
      );
    if (!state.exists) await createDatabase(url);
    else if (options.replace && state.tables > 0) await recreateDatabase(url);

    const connection = libpqConnection(url);
    try {
      await runProgram(
        'database restore',
        'pg_restore',
        [
          '--no-owner',
          '--no-privileges',
          '--exit-on-error',
          '--single-transaction',
          '--no-password',
          `--dbname=${connection.database}`,
          join(backup.path, DATABASE_FILE),
        ],
        { env: connection.env },
      );
    } finally {
      connection.dispose();
    }
    deps.logger.info({ backup: backup.name, database: connection.database }, 'database restored');

    const restored: string[] = [];
    const notRestored: string[] = [];
    for (const entry of manifest.directories) {
      const target = settings.BACKUP_STATE_DIRS.find((directory) => directory.name === entry.name);
      if (!target) {
        notRestored.push(entry.name);
        continue;
      }
      // The directory itself may be a volume's mount point: its contents are replaced, not it.
      mkdirSync(target.path, { recursive: true });
      for (const name of readdirSync(target.path))
        rmSync(join(target.path, name), { recursive: true, force: true });
      await runProgram(`state directory ${entry.name}`, 'tar', [
        '--extract',
        '--gzip',
        `--file=${join(backup.path, entry.file)}`,
        `--directory=${target.path}`,
      ]);
      restored.push(entry.name);
      deps.logger.info({ directory: entry.name, path: target.path }, 'state directory restored');
    }
    return { backup: backup.name, database: connection.database, directories: restored, notRestored };
  } finally {
    lock.release();
  }
}
