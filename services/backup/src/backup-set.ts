/**
 * A backup is one directory, `ibstack-<UTC time>-<reason>`, holding the database dump (pg_dump custom
 * format), one tar.gz per state directory, and `manifest.json`, written last. Invariants:
 * - a directory is a backup only once its manifest exists: work in progress lives under `.partial-…`
 *   and is renamed into place when complete, so a crash never leaves something that looks like a backup;
 * - names sort by time, so the newest is the last;
 * - retention counts good backups only and never deletes the newest `keep` of them.
 */
import { z } from 'zod';

export const BACKUP_PREFIX = 'ibstack-';
export const PARTIAL_PREFIX = '.partial-';
export const MANIFEST = 'manifest.json';
export const DATABASE_FILE = 'database.dump';

/** Why a backup was taken; part of its name. */
export const BackupReason = z.enum(['scheduled', 'manual', 'deploy']);
export type BackupReason = z.infer<typeof BackupReason>;

const FileEntry = z
  .object({
    file: z.string(),
    bytes: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();

/** What a backup holds, written last; its presence marks the backup complete. */
export const BackupManifest = z
  .object({
    v: z.literal(1),
    name: z.string(),
    reason: BackupReason,
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    database: FileEntry.extend({
      format: z.literal('custom'),
      /** The database's name when it was dumped. */
      name: z.string(),
      serverVersion: z.string(),
      /** Applied migrations, so a restore can tell which code the schema belongs to. */
      migrations: z.array(z.string()),
    }).strict(),
    directories: z.array(FileEntry.extend({ name: z.string(), source: z.string() }).strict()),
    /** State directories configured but absent (the IB Gateway's settings on a simulated stack). */
    skipped: z.array(z.object({ name: z.string(), source: z.string(), reason: z.string() }).strict()),
  })
  .strict();
export type BackupManifest = z.infer<typeof BackupManifest>;

/** `ibstack-20261203T150102.345Z-scheduled`: sortable, readable, safe as a file name everywhere. */
export function backupName(at: Date, reason: BackupReason): string {
  return `${BACKUP_PREFIX}${at.toISOString().replace(/[-:]/g, '')}-${reason}`;
}

const NAME = /^ibstack-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z-(scheduled|manual|deploy)$/;

/** The time and reason in a backup's name, or null for anything else in the directory. */
export function parseBackupName(name: string): { at: Date; reason: BackupReason } | null {
  const match = NAME.exec(name);
  if (!match) return null;
  const [, year, month, day, hour, minute, second, millisecond, reason] = match;
  return {
    at: new Date(`${year}-${month}-${day}T${hour}:${minute}:${second}.${millisecond}Z`),
    reason: reason as BackupReason,
  };
}

/** The good backups to delete so that the newest `keep` remain (names sort by time). */
export function backupsToPrune(goodBackups: readonly string[], keep: number): string[] {
  const sorted = [...goodBackups].sort();
  return sorted.slice(0, Math.max(0, sorted.length - keep));
}

/** When the next scheduled backup is due: one interval after the newest good one, or now. */
export function nextBackupDue(newest: Date | null, intervalMs: number, now: Date): Date {
  if (!newest) return now;
  const due = newest.getTime() + intervalMs;
  return new Date(Math.max(due, now.getTime()));
}
