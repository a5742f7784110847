/**
 * scripts/restore.sh (`make restore FILE=…`) with the stand-in `docker`: it checks the backup before it
 * stops anything, stops the stack, starts Postgres alone, restores, and starts the stack; a backup from a
 * host path is mounted into the backup container; a failed restore leaves the stack stopped. What the
 * restore itself does is tested in services/backup (restore-stack.int.test.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runCommand } from '@ibstack/test-kit';

const REPO = join(__dirname, '..', '..');
const NAME = 'ibstack-20261203T150000.000Z-manual';

describe('scripts/restore.sh', () => {
  let work: string;
  let fake: string;
  let bin: string;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), 'ibstack-restore-script-'));
    fake = join(work, 'docker');
    bin = join(work, 'bin');
    mkdirSync(fake);
    mkdirSync(bin);
    symlinkSync(join(__dirname, 'stand-ins', 'docker.sh'), join(bin, 'docker'));
    writeFileSync(join(fake, 'running'), 'postgres\nexecution\n');
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const restore = (...args: string[]) =>
    runCommand(join(REPO, 'scripts', 'restore.sh'), args, {
      env: { PATH: `${bin}:${process.env.PATH}`, FAKE_DOCKER_DIR: fake, IBSTACK_VERSION: '' },
    });
  const calls = () => readFileSync(join(fake, 'calls'), 'utf8').trim().split('\n');
  const cli = 'compose run --rm --no-deps -T backup node services/backup/src/cli.js';

  it('checks, stops the stack, restores with Postgres alone, and starts the stack again', async () => {
    const result = await restore(NAME);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(calls()).toEqual([
      `version= ${cli} check ${NAME}`,
      'version= compose stop',
      'version= compose up --detach --wait postgres',
      `version= ${cli} restore --replace ${NAME}`,
      'version= compose up --detach',
    ]);
  });

  it('mounts a backup from a path on the host (a copy from the standby)', async () => {
    const copy = join(work, 'from-standby', NAME);
    mkdirSync(copy, { recursive: true });
    writeFileSync(join(copy, 'manifest.json'), '{}');
    const result = await restore(copy);
    expect(result.code).toBe(0);
    const mounted = `compose run --rm --no-deps -T --volume ${copy}:/restore/${NAME}:ro backup node services/backup/src/cli.js`;
    expect(calls()).toContain(`version= ${mounted} restore --replace /restore/${NAME}`);
  });

  it('stops nothing when the backup does not check out', async () => {
    writeFileSync(join(fake, 'check-fails'), '');
    const result = await restore(NAME);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/does not match its manifest/);
    expect(calls()).toEqual([`version= ${cli} check ${NAME}`]);
  });

  it('leaves the stack stopped when the restore fails, so nothing trades on half a database', async () => {
    writeFileSync(join(fake, 'restore-fails'), '');
    const result = await restore(NAME);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the stack stays stopped/);
    expect(calls().at(-1)).toBe(`version= ${cli} restore --replace ${NAME}`);
  });

  it('needs a backup to restore', async () => {
    const none = await restore('');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/usage: make restore FILE=/);
    const notBackup = await restore(join(work, 'nothing-here'));
    expect(notBackup.code).toBe(2);
    expect(notBackup.stderr).toMatch(/is not a backup \(it has no manifest\.json\)/);
  });
});
