/**
 * The backup service as docker-compose.yml and the Dockerfile run it: its pg_dump is the database
 * server's major version, and every state directory it saves is the volume the owning service keeps its
 * state on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  environmentOf,
  readCompose,
  readDockerfile,
  REPO,
} from '../../../packages/stack/test/compose/compose-file';
import { backupEnv } from '../src/config';

const compose = readCompose({});

/** `volume:/path[:ro]` entries of a service as { volume, path }. */
function mounts(service: string): Array<{ volume: string; path: string }> {
  return (compose.services[service]?.volumes ?? []).map((entry) => {
    if (typeof entry !== 'string') return { volume: entry.source ?? '', path: entry.target ?? '' };
    const [volume = '', path = ''] = entry.split(':');
    return { volume, path };
  });
}

describe('the backup service in docker-compose.yml', () => {
  it('installs the pg_dump of the Postgres server’s major version', () => {
    const major = /^postgres:(\d+)\./.exec(compose.services.postgres!.image!)?.[1];
    expect(major).toBeDefined();
    const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
    const stage = dockerfile.slice(dockerfile.indexOf('FROM runtime AS backup'));
    expect(stage).toMatch(new RegExp(`postgresql-client-${major}\\b`));
    expect(readDockerfile().stages.find((candidate) => candidate.name === 'backup')?.cmd).toEqual([
      'node',
      'services/backup/src/main.js',
    ]);
  });

  it.each([
    ['gateway-sim', 'gateway-sim', 'GATEWAY_SIM_STATE_FILE'],
    ['ibga-settings', 'gateway', null],
  ])('saves %s from the volume %s keeps it on', (name, owner, stateVariable) => {
    const config = backupEnv.parse({
      ...environmentOf(compose.services.backup!),
      DATABASE_URL: 'postgres://x@y/z',
    });
    const directory = config.BACKUP_STATE_DIRS.find((entry) => entry.name === name);
    expect(directory).toBeDefined();
    const backupMount = mounts('backup').find((mount) => mount.path === directory!.path);
    expect(backupMount).toBeDefined();
    const ownerMount = mounts(owner).find((mount) => mount.volume === backupMount!.volume);
    expect(ownerMount).toBeDefined();
    // The owner really keeps its state there.
    if (stateVariable)
      expect(environmentOf(compose.services[owner]!)[stateVariable]!.startsWith(`${ownerMount!.path}/`)).toBe(
        true,
      );
  });

  it('keeps the backups on a volume of their own', () => {
    const config = backupEnv.parse({
      ...environmentOf(compose.services.backup!),
      DATABASE_URL: 'postgres://x@y/z',
    });
    const mount = mounts('backup').find((entry) => entry.path === config.BACKUP_DIR);
    expect(mount?.volume).toBe('backups');
    expect(Object.keys(compose.volumes ?? {})).toContain('backups');
  });
});
