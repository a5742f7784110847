/** The backup directory on disk: listing, locking, partial work, completion and retention. */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';

import { BackupManifest, backupsToPrune, MANIFEST, PARTIAL_PREFIX, parseBackupName } from './backup-set';
import { BackupBusyError, BackupNotFoundError } from './errors';

export interface StoredBackup {
  readonly name: string;
  readonly path: string;
  readonly at: Date;
  readonly manifest: BackupManifest;
  /** Every file of the backup together. */
  readonly bytes: number;
}

export interface BackupLock {
  release(): void;
}

const LOCK = '.lock';
/** A lock from another host (container) is taken to be abandoned after this long. */
const FOREIGN_LOCK_STALE_MS = 6 * 3_600_000;

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The backup `name` in `directory`, or null when it is not a complete one. */
function readBackup(directory: string, name: string): StoredBackup | null {
  const parsed = parseBackupName(name);
  if (!parsed) return null;
  const path = join(directory, name);
  let manifest: BackupManifest;
  try {
    manifest = BackupManifest.parse(JSON.parse(readFileSync(join(path, MANIFEST), 'utf8')));
  } catch {
    return null;
  }
  const bytes = readdirSync(path).reduce((sum, file) => sum + statSync(join(path, file)).size, 0);
  return { name, path, at: parsed.at, manifest, bytes };
}

export class BackupStore {
  constructor(readonly directory: string) {}

  ensure(): void {
    mkdirSync(this.directory, { recursive: true });
  }

  /** Complete backups, oldest first. A directory without a valid manifest is not a backup. */
  list(): StoredBackup[] {
    if (!existsSync(this.directory)) return [];
    return readdirSync(this.directory)
      .sort()
      .map((name) => readBackup(this.directory, name))
      .filter((backup): backup is StoredBackup => backup !== null);
  }

  newest(): StoredBackup | null {
    return this.list().at(-1) ?? null;
  }

  /**
   * A backup by its name in this directory, or by a path to a backup anywhere (one copied back from the
   * standby): `make restore FILE=…` accepts either.
   */
  find(nameOrPath: string): StoredBackup {
    if (nameOrPath.includes('/')) {
      const path = resolve(nameOrPath);
      const found = readBackup(dirname(path), basename(path));
      if (!found)
        throw new BackupNotFoundError(`${nameOrPath} is not a complete backup (no valid ${MANIFEST})`);
      return found;
    }
    const found = this.list().find((backup) => backup.name === nameOrPath);
    if (!found) {
      const known = this.list().map((backup) => backup.name);
      throw new BackupNotFoundError(
        `no complete backup "${nameOrPath}" in ${this.directory}; ${
          known.length > 0 ? `there are: ${known.join(', ')}` : 'there are none'
        }`,
      );
    }
    return found;
  }

  /** Held for the whole of a backup or a restore; a second one fails at once instead of interleaving. */
  lock(purpose: string): BackupLock {
    this.ensure();
    const file = join(this.directory, LOCK);
    const me = { pid: process.pid, host: hostname(), purpose, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
        return {
          release: () => {
            try {
              const holder = JSON.parse(readFileSync(file, 'utf8')) as typeof me;
              if (holder.pid === me.pid && holder.host === me.host) rmSync(file, { force: true });
            } catch {
              // already gone
            }
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        let holder: typeof me | undefined;
        try {
          holder = JSON.parse(readFileSync(file, 'utf8')) as typeof me;
        } catch {
          holder = undefined; // written half-way by a process that died: stale
        }
        const stale =
          !holder ||
          (holder.host === me.host
            ? !processAlive(holder.pid)
            : Date.now() - Date.parse(holder.since) > FOREIGN_LOCK_STALE_MS);
        if (!stale)
          throw new BackupBusyError(
            `${holder!.purpose}, pid ${holder!.pid} on ${holder!.host} since ${holder!.since}`,
          );
        rmSync(file, { force: true });
      }
    }
    throw new BackupBusyError('the lock could not be taken');
  }

  /** A fresh directory for work in progress. */
  createPartial(name: string): string {
    this.ensure();
    const path = join(this.directory, `${PARTIAL_PREFIX}${name}`);
    rmSync(path, { recursive: true, force: true });
    mkdirSync(path);
    return path;
  }

  /** Makes a finished partial a backup: one rename, after its manifest was written. */
  complete(partial: string, name: string): string {
    const path = join(this.directory, name);
    renameSync(partial, path);
    return path;
  }

  /** Work in progress left by a run that crashed (call with the lock held). */
  removePartials(): string[] {
    if (!existsSync(this.directory)) return [];
    const partials = readdirSync(this.directory).filter((name) => name.startsWith(PARTIAL_PREFIX));
    for (const name of partials) rmSync(join(this.directory, name), { recursive: true, force: true });
    return partials;
  }

  /** Deletes all but the newest `keep` good backups; returns the names deleted. */
  prune(keep: number): string[] {
    const doomed = backupsToPrune(
      this.list().map((backup) => backup.name),
      keep,
    );
    for (const name of doomed) rmSync(join(this.directory, name), { recursive: true, force: true });
    return doomed;
  }
}
