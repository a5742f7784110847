/**
 * One backup: the database with pg_dump (custom format, so pg_restore can restore it table by table and
 * check it), each configured state directory as a tar.gz, then the manifest, then the rename that makes it
 * a backup, then retention, then the copy to the standby. A failure at any step leaves the earlier backups
 * as they were and no half-written one behind.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Logger } from '@ibstack/observability';

import { libpqConnection, databaseFacts } from './adapters/postgres';
import { runProgram } from './adapters/run-program';
import { backupName, type BackupManifest, type BackupReason, DATABASE_FILE, MANIFEST } from './backup-set';
import { type BackupStore, sha256File } from './backup-store';
import type { BackupEnv } from './config';
import { BackupStepError } from './errors';

export type BackupSettings = Pick<
  BackupEnv,
  | 'DATABASE_URL'
  | 'BACKUP_KEEP'
  | 'BACKUP_STATE_DIRS'
  | 'BACKUP_STANDBY_TARGET'
  | 'BACKUP_STANDBY_SSH_KEY_FILE'
  | 'BACKUP_STANDBY_KNOWN_HOSTS_FILE'
  | 'BACKUP_STANDBY_SSH_PORT'
>;

export interface BackupDeps {
  readonly store: BackupStore;
  readonly logger: Logger;
  readonly now?: () => Date;
}

export interface BackupResult {
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
  readonly durationMs: number;
  readonly pruned: readonly string[];
  readonly skipped: readonly string[];
  /** `copied` to the standby, `not configured`, or why the copy failed (the backup itself is kept). */
  readonly standby: { readonly copied: boolean; readonly error?: string };
}

async function fileEntry(directory: string, file: string) {
  const path = join(directory, file);
  return { file, bytes: statSync(path).size, sha256: await sha256File(path) };
}

export async function takeBackup(
  settings: BackupSettings,
  deps: BackupDeps,
  reason: BackupReason,
): Promise<BackupResult> {
  const now = deps.now ?? (() => new Date());
  const started = now();
  const lock = deps.store.lock(`${reason} backup`);
  const name = backupName(started, reason);
  let partial: string | undefined;
  try {
    deps.store.removePartials();
    partial = deps.store.createPartial(name);
    const connection = libpqConnection(settings.DATABASE_URL);
    let facts: { serverVersion: string; migrations: string[] };
    try {
      facts = await databaseFacts(settings.DATABASE_URL).catch((error: unknown) => {
        throw new BackupStepError('database', (error as Error).message, { cause: error });
      });
      await runProgram(
        'database dump',
        'pg_dump',
        ['--format=custom', '--compress=6', '--no-password', `--file=${join(partial, DATABASE_FILE)}`],
        { env: connection.env },
      );
    } finally {
      connection.dispose();
    }

    const directories: BackupManifest['directories'] = [];
    const skipped: BackupManifest['skipped'] = [];
    for (const { name: directory, path } of settings.BACKUP_STATE_DIRS) {
      if (!existsSync(path) || !statSync(path).isDirectory()) {
        skipped.push({ name: directory, source: path, reason: 'not there' });
        continue;
      }
      const file = `${directory}.tar.gz`;
      // A service writes its state through a temporary file and a rename: the temporary ones are left
      // out, and tar's "changed as we read it" (exit 1) is harmless for a file replaced by a rename.
      const result = await runProgram(
        `state directory ${directory}`,
        'tar',
        [
          '--create',
          '--gzip',
          `--file=${join(partial, file)}`,
          '--exclude=*.tmp',
          '--numeric-owner',
          `--directory=${path}`,
          '.',
        ],
        { accept: [1] },
      );
      if (result.code === 1)
        deps.logger.warn({ directory, detail: result.stderr }, 'a file changed while it was saved');
      directories.push({ name: directory, source: path, ...(await fileEntry(partial, file)) });
    }

    const finished = now();
    const manifest: BackupManifest = {
      v: 1,
      name,
      reason,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      database: {
        ...(await fileEntry(partial, DATABASE_FILE)),
        format: 'custom',
        name: connection.database,
        ...facts,
      },
      directories,
      skipped,
    };
    writeFileSync(join(partial, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    const path = deps.store.complete(partial, name);
    partial = undefined;
    const bytes = deps.store.find(name).bytes;
    const pruned = deps.store.prune(settings.BACKUP_KEEP);
    deps.logger.info(
      { backup: name, bytes, pruned, skipped: skipped.map((entry) => entry.name) },
      'backup complete',
    );

    let standby: BackupResult['standby'] = { copied: false };
    if (settings.BACKUP_STANDBY_TARGET) {
      try {
        await copyToStandby(settings, deps.store.directory);
        standby = { copied: true };
        deps.logger.info({ target: settings.BACKUP_STANDBY_TARGET }, 'backups copied to the standby');
      } catch (error) {
        standby = { copied: false, error: (error as Error).message };
        deps.logger.error(
          { err: error, target: settings.BACKUP_STANDBY_TARGET },
          'copy to the standby failed',
        );
      }
    }
    return {
      name,
      path,
      bytes,
      durationMs: now().getTime() - started.getTime(),
      pruned,
      skipped: skipped.map((entry) => entry.name),
      standby,
    };
  } finally {
    if (partial) deps.store.removePartials();
    lock.release();
  }
}

/**
 * Mirrors the backup directory to the standby with rsync over SSH (the standby's WireGuard address): new
 * backups are sent, pruned ones deleted there too, work in progress and the lock never. The host key must
 * already be in known_hosts.
 */
export async function copyToStandby(settings: BackupSettings, directory: string): Promise<void> {
  const ssh = [
    'ssh',
    '-i',
    settings.BACKUP_STANDBY_SSH_KEY_FILE!,
    '-p',
    String(settings.BACKUP_STANDBY_SSH_PORT),
    '-o',
    `UserKnownHostsFile=${settings.BACKUP_STANDBY_KNOWN_HOSTS_FILE!}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=15',
  ].join(' ');
  await runProgram('copy to the standby', 'rsync', [
    '--archive',
    '--delete',
    '--exclude=.partial-*',
    '--exclude=.lock',
    '--rsh',
    ssh,
    `${directory.replace(/\/+$/, '')}/`,
    `${settings.BACKUP_STANDBY_TARGET!.replace(/\/+$/, '')}/`,
  ]);
}
