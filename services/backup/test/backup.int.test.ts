/**
 * Backups and restores against the real Postgres with Debian's pg_dump, pg_restore, tar, rsync and an
 * sshd of the test's own on loopback (the standby copy): what a backup holds, that retention keeps the
 * newest N, that a failed or concurrent run leaves everything as it was, that a restore puts the database
 * and the state directories back (and refuses to overwrite a database unless told to), the metrics, the
 * schedule, and the CLI that `make backup` / `make restore` run.
 */
import { generateKeyPairSync } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BACKUP_SERVICE_METRICS } from '@ibstack/monitoring';
import { createLogger, createRegistry } from '@ibstack/observability';
import {
  createTestDatabase,
  dropDatabase,
  eventually,
  freePort,
  runCommand,
  runCommandOk,
  silentLogger,
  spawnProcess,
  type SpawnedProcess,
  type TestDatabase,
  uniqueSuffix,
} from '@ibstack/test-kit';
import pg from 'pg';

import { BackupStore } from '../src/backup-store';
import { backupEnv, type BackupEnv } from '../src/config';
import { BackupBusyError, BackupStepError, RestoreRefusedError } from '../src/errors';
import { restoreBackup } from '../src/restore';
import { createBackupService } from '../src/service';
import { takeBackup } from '../src/take-backup';

const CLI = join(__dirname, '..', 'src', 'cli.ts');

async function query<T extends pg.QueryResultRow>(
  url: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe('backup and restore', () => {
  let database: TestDatabase;
  let dir: string;
  let simState: string;
  let settings: BackupEnv;
  let store: BackupStore;
  const logger = silentLogger();
  const extraDatabases: string[] = [];

  const urlOf = (name: string) => {
    const url = new URL(database.url);
    url.pathname = `/${name}`;
    return url.toString();
  };
  const freshDatabaseName = () => {
    const name = `ibstack_test_${uniqueSuffix()}`;
    extraDatabases.push(name);
    return name;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await query(
      database.url,
      `insert into audit_log (audit_id, actor, action, detail, at) values ('a1', 'backup-test', 'halt', '{"why":"before backup"}', now())`,
    );
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ibstack-backup-'));
    simState = join(dir, 'gateway-sim');
    mkdirSync(simState);
    writeFileSync(join(simState, 'gateway-sim.json'), '{"orders":[1,2,3]}');
    writeFileSync(join(simState, 'gateway-sim.json.123.tmp'), 'half written');
    settings = backupEnv.parse({
      DATABASE_URL: database.url,
      BACKUP_DIR: join(dir, 'backups'),
      BACKUP_KEEP: '3',
      BACKUP_STATE_DIRS: `gateway-sim=${simState},ibga-settings=${join(dir, 'not-there')}`,
    });
    store = new BackupStore(settings.BACKUP_DIR);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  afterAll(async () => {
    for (const name of extraDatabases) await dropDatabase(database.url, name).catch(() => undefined);
    await database?.drop();
  });

  it('holds a custom-format dump, the state directories and a manifest with their checksums', async () => {
    const result = await takeBackup(settings, { store, logger }, 'manual');
    expect(result.name).toMatch(/^ibstack-\d{8}T\d{6}\.\d{3}Z-manual$/);
    expect(result.skipped).toEqual(['ibga-settings']);
    expect(readdirSync(result.path).sort()).toEqual(['database.dump', 'gateway-sim.tar.gz', 'manifest.json']);
    const manifest = store.find(result.name).manifest;
    expect(manifest.database.format).toBe('custom');
    expect(manifest.database.name).toBe(database.name);
    expect(manifest.database.migrations).toEqual(expect.arrayContaining(['0001_initial']));
    expect(manifest.database.serverVersion).toMatch(/^\d+\.\d+/);
    expect(manifest.skipped).toEqual([
      { name: 'ibga-settings', source: join(dir, 'not-there'), reason: 'not there' },
    ]);
    // pg_restore can read the dump's table of contents: it is a real custom-format archive.
    const contents = await runCommandOk('pg_restore', ['--list', join(result.path, 'database.dump')]);
    expect(contents.stdout).toMatch(/TABLE DATA public audit_log/);
    const archived = await runCommandOk('tar', [
      '--list',
      '--gzip',
      `--file=${join(result.path, 'gateway-sim.tar.gz')}`,
    ]);
    expect(archived.stdout.split('\n').filter(Boolean).sort()).toEqual(['./', './gateway-sim.json']);
    expect(result.bytes).toBe(store.find(result.name).bytes);
    // No password or URL on pg_dump's command line: the URL here has none, but the arguments never do.
    expect(readdirSync(settings.BACKUP_DIR)).toEqual([result.name]);
  });

  it('keeps the newest BACKUP_KEEP good backups', async () => {
    const names: string[] = [];
    for (let run = 0; run < 5; run++)
      names.push((await takeBackup(settings, { store, logger }, 'scheduled')).name);
    expect(store.list().map((backup) => backup.name)).toEqual(names.slice(2));
  });

  it('leaves the earlier backups and nothing half-written when a run fails', async () => {
    const good = await takeBackup(settings, { store, logger }, 'manual');
    const broken = { ...settings, DATABASE_URL: urlOf('ibstack_test_does_not_exist') };
    await expect(takeBackup(broken, { store, logger }, 'manual')).rejects.toThrow(BackupStepError);
    expect(readdirSync(settings.BACKUP_DIR)).toEqual([good.name]);
    // The lock was released: the next run works.
    await takeBackup(settings, { store, logger }, 'manual');
    expect(store.list()).toHaveLength(2);
  });

  it('refuses a second run while one holds the lock', async () => {
    const lock = store.lock('another backup');
    try {
      await expect(takeBackup(settings, { store, logger }, 'manual')).rejects.toThrow(BackupBusyError);
    } finally {
      lock.release();
    }
    expect(store.list()).toHaveLength(0);
  });

  it('restores the database into a fresh one and the state directory as it was', async () => {
    const backup = await takeBackup(settings, { store, logger }, 'manual');
    writeFileSync(join(simState, 'gateway-sim.json'), '{"orders":"changed after the backup"}');
    writeFileSync(join(simState, 'stray'), 'not in the backup');
    const target = freshDatabaseName();
    const result = await restoreBackup(
      settings,
      { store, logger },
      { backup: backup.name, databaseUrl: urlOf(target) },
    );
    expect(result).toEqual({
      backup: backup.name,
      database: target,
      directories: ['gateway-sim'],
      notRestored: [],
    });
    const rows = await query<{ actor: string; detail: { why: string } }>(
      urlOf(target),
      'select actor, detail from audit_log',
    );
    expect(rows).toEqual([{ actor: 'backup-test', detail: { why: 'before backup' } }]);
    const migrations = await query<{ name: string }>(
      urlOf(target),
      'select name from kysely_migration order by name',
    );
    expect(migrations.map((row) => row.name)).toEqual(store.find(backup.name).manifest.database.migrations);
    expect(readdirSync(simState).sort()).toEqual(['gateway-sim.json']);
    expect(readFileSync(join(simState, 'gateway-sim.json'), 'utf8')).toBe('{"orders":[1,2,3]}');
  });

  it('will not overwrite a database with tables unless told to replace it', async () => {
    const backup = await takeBackup(settings, { store, logger }, 'manual');
    const target = freshDatabaseName();
    await restoreBackup(settings, { store, logger }, { backup: backup.name, databaseUrl: urlOf(target) });
    await query(
      urlOf(target),
      `insert into audit_log (audit_id, actor, action, detail, at) values ('a2', 'later', 'resume', '{}', now())`,
    );
    await expect(
      restoreBackup(settings, { store, logger }, { backup: backup.name, databaseUrl: urlOf(target) }),
    ).rejects.toThrow(RestoreRefusedError);
    expect(await query(urlOf(target), 'select actor from audit_log order by actor')).toEqual([
      { actor: 'backup-test' },
      { actor: 'later' },
    ]);
    await restoreBackup(
      settings,
      { store, logger },
      { backup: backup.name, databaseUrl: urlOf(target), replace: true },
    );
    expect(await query(urlOf(target), 'select actor from audit_log')).toEqual([{ actor: 'backup-test' }]);
  });

  it('restores from a backup elsewhere, given its path (a copy from the standby)', async () => {
    const backup = await takeBackup(settings, { store, logger }, 'manual');
    const copied = join(dir, 'from-standby');
    mkdirSync(copied);
    await runCommandOk('cp', ['-a', backup.path, copied]);
    rmSync(backup.path, { recursive: true });
    const target = freshDatabaseName();
    const result = await restoreBackup(
      settings,
      { store, logger },
      { backup: join(copied, backup.name), databaseUrl: urlOf(target) },
    );
    expect(result.backup).toBe(backup.name);
    expect(await query(urlOf(target), 'select actor from audit_log')).toEqual([{ actor: 'backup-test' }]);
    await expect(
      restoreBackup(settings, { store, logger }, { backup: copied, databaseUrl: urlOf(target) }),
    ).rejects.toThrow(/is not a complete backup/);
  });

  it('refuses a backup whose files do not match their manifest', async () => {
    const backup = await takeBackup(settings, { store, logger }, 'manual');
    writeFileSync(join(backup.path, 'gateway-sim.tar.gz'), 'corrupted');
    await expect(
      restoreBackup(
        settings,
        { store, logger },
        { backup: backup.name, databaseUrl: urlOf(freshDatabaseName()) },
      ),
    ).rejects.toThrow(/gateway-sim\.tar\.gz does not match its manifest/);
  });

  it('reports the newest backup’s time and size, and the last run, as metrics; backs up when due', async () => {
    const registry = createRegistry('backup', { defaultMetrics: false });
    const service = createBackupService(
      { ...settings, BACKUP_INTERVAL_MINUTES: 360 },
      { store, logger, registry },
    );
    const value = async (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(await registry.metrics())?.[1]);
    expect(await value('backup_last_success_timestamp_seconds')).toBe(0);
    expect(await value('backup_interval_seconds')).toBe(21_600);
    // No backup yet: the first is due at once.
    service.start();
    try {
      await eventually(async () => expect(await value('backup_kept')).toBe(1), { timeoutMs: 20_000 });
      await eventually(async () => expect(await value('backup_last_run_success')).toBe(1));
      const newest = store.newest()!;
      expect(await value('backup_last_success_timestamp_seconds')).toBe(
        Date.parse(newest.manifest.finishedAt) / 1000,
      );
      expect(await value('backup_last_size_bytes')).toBe(newest.bytes);
      // A backup by another process (the CLI) shows at the next scrape.
      await takeBackup(settings, { store, logger }, 'manual');
      expect(await value('backup_kept')).toBe(2);
      // Every name the alert rules and dashboards may read (packages/monitoring's inventory relies on it).
      const exposed = await registry.metrics();
      for (const name of BACKUP_SERVICE_METRICS)
        expect(exposed).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, 'm'));
    } finally {
      await service.stop();
    }
    // A failing run sets the failure gauge (and keeps what was there).
    const failing = createBackupService(
      { ...settings, DATABASE_URL: urlOf('ibstack_test_does_not_exist') },
      { store, logger, registry },
    );
    await failing.runNow();
    expect(await value('backup_last_run_success')).toBe(0);
    expect(await value('backup_kept')).toBe(2);
  });

  describe('the CLI', () => {
    const cli = (args: string[], env: Record<string, string> = {}) =>
      runCommand(process.execPath, ['--import', 'tsx', CLI, ...args], {
        env: {
          DATABASE_URL: database.url,
          BACKUP_DIR: settings.BACKUP_DIR,
          BACKUP_STATE_DIRS: `gateway-sim=${simState}`,
          LOG_LEVEL: 'warn',
          ...env,
        },
      });

    it('takes, lists and restores backups', async () => {
      const taken = await cli(['backup', '--reason', 'deploy']);
      expect(taken.stderr).toBe('');
      expect(taken.code).toBe(0);
      const name = /^(ibstack-\S+-deploy) \(/.exec(taken.stdout)?.[1];
      expect(name).toBeDefined();
      const listed = JSON.parse((await cli(['list', '--json'])).stdout) as Array<{
        name: string;
        reason: string;
      }>;
      expect(listed.map(({ name: listedName, reason }) => [listedName, reason])).toEqual([[name, 'deploy']]);
      const target = freshDatabaseName();
      const restored = await cli(['restore', name!, '--database', target]);
      expect(restored.stdout).toBe(`restored ${name} into database ${target} and gateway-sim\n`);
      expect(restored.code).toBe(0);
      const again = await cli(['restore', name!, '--database', target]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/has \d+ tables; restore into a new database, or pass --replace/);
    });

    it('names what is wrong: a bad setting (78), an unknown backup (1), a busy lock (75)', async () => {
      const badConfig = await cli(['list'], { BACKUP_KEEP: '0', BACKUP_STATE_DIRS: 'sim:/x' });
      expect(badConfig.code).toBe(78);
      expect(badConfig.stderr).toMatch(/BACKUP_KEEP/);
      expect(badConfig.stderr).toMatch(/BACKUP_STATE_DIRS: "sim:\/x" is not name=\/absolute\/path/);
      const unknown = await cli(['restore', 'ibstack-20200101T000000.000Z-manual', '--database', 'x']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no complete backup "ibstack-20200101T000000\.000Z-manual"/);
      const lock = store.lock('a deploy');
      try {
        const busy = await cli(['backup']);
        expect(busy.code).toBe(75);
        expect(busy.stderr).toMatch(/another backup or restore is running \(a deploy, pid \d+/);
      } finally {
        lock.release();
      }
    });
  });

  describe('the copy to the standby (rsync over SSH)', () => {
    let sshd: SpawnedProcess;
    let sshDir: string;
    let port: number;

    beforeAll(async () => {
      sshDir = mkdtempSync(join(tmpdir(), 'ibstack-sshd-'));
      port = await freePort();
      await runCommandOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, 'host_key')]);
      await runCommandOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, 'client_key')]);
      writeFileSync(join(sshDir, 'authorized_keys'), readFileSync(join(sshDir, 'client_key.pub')));
      const hostKey = readFileSync(join(sshDir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
      writeFileSync(join(sshDir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
      writeFileSync(
        join(sshDir, 'sshd_config'),
        [
          `ListenAddress 127.0.0.1:${port}`,
          `HostKey ${join(sshDir, 'host_key')}`,
          `AuthorizedKeysFile ${join(sshDir, 'authorized_keys')}`,
          'PermitRootLogin prohibit-password',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          `PidFile ${join(sshDir, 'sshd.pid')}`,
          'StrictModes no',
          '',
        ].join('\n'),
      );
      mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation directory
      sshd = spawnProcess('/usr/sbin/sshd', ['-D', '-e', '-f', join(sshDir, 'sshd_config')]);
      await eventually(async () => {
        const probe = await runCommand('ssh-keyscan', ['-p', String(port), '127.0.0.1']);
        expect(probe.stdout).toMatch(/ssh-ed25519/);
      });
    });

    afterAll(async () => {
      await sshd?.kill('SIGTERM');
      rmSync(sshDir, { recursive: true, force: true });
    });

    it('mirrors the backups to the standby after each good one, pruned ones included', async () => {
      const standby = join(dir, 'standby');
      const withStandby = backupEnv.parse({
        DATABASE_URL: database.url,
        BACKUP_DIR: settings.BACKUP_DIR,
        BACKUP_KEEP: '2',
        BACKUP_STATE_DIRS: `gateway-sim=${simState}`,
        BACKUP_STANDBY_TARGET: `root@127.0.0.1:${standby}`,
        BACKUP_STANDBY_SSH_PORT: String(port),
        BACKUP_STANDBY_SSH_KEY_FILE: join(sshDir, 'client_key'),
        BACKUP_STANDBY_KNOWN_HOSTS_FILE: join(sshDir, 'known_hosts'),
      });
      mkdirSync(standby);
      for (let run = 0; run < 3; run++) {
        const result = await takeBackup(withStandby, { store, logger }, 'scheduled');
        expect(result.standby).toEqual({ copied: true });
      }
      const local = store.list().map((backup) => backup.name);
      expect(local).toHaveLength(2);
      expect(readdirSync(standby).sort()).toEqual(local);
      // What arrived is a whole backup: the standby can restore from it.
      expect(new BackupStore(standby).list().map((backup) => backup.name)).toEqual(local);
    });

    it('keeps the backup and reports the failure when the standby refuses the copy', async () => {
      const { privateKey } = generateKeyPairSync('ed25519');
      const strangerKey = join(dir, 'stranger_key');
      writeFileSync(strangerKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      const refused = backupEnv.parse({
        DATABASE_URL: database.url,
        BACKUP_DIR: settings.BACKUP_DIR,
        BACKUP_STANDBY_TARGET: `root@127.0.0.1:${join(dir, 'standby')}`,
        BACKUP_STANDBY_SSH_PORT: String(port),
        BACKUP_STANDBY_SSH_KEY_FILE: strangerKey,
        BACKUP_STANDBY_KNOWN_HOSTS_FILE: join(sshDir, 'known_hosts'),
      });
      const result = await takeBackup(
        refused,
        { store, logger: createLogger({ service: 'backup', level: 'silent' }) },
        'manual',
      );
      expect(result.standby.copied).toBe(false);
      expect(result.standby.error).toMatch(/copy to the standby: rsync .* exited/);
      expect(existsSync(result.path)).toBe(true);
    });
  });
});
