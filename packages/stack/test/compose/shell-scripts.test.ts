/** Every shell script of the repository passes shellcheck (Debian's `shellcheck`, see .ci/apt-packages). */
import { execFileSync, spawnSync } from 'node:child_process';

import { REPO } from './compose-file';

const scripts = execFileSync(
  'git',
  ['ls-files', '--cached', '--others', '--exclude-standard', '*.sh', '.ci/run'],
  {
    cwd: REPO,
    encoding: 'utf8',
  },
)
  .split('\n')
  .filter(Boolean);

describe('shell scripts', () => {
  it('finds the scripts (the gateway entrypoint, make secrets, CI)', () => {
    expect(scripts).toEqual(
      expect.arrayContaining(['docker/gateway/entrypoint.sh', 'docker/make-secrets.sh', '.ci/run']),
    );
  });

  it.each(scripts)('%s passes shellcheck', (script) => {
    const result = spawnSync('shellcheck', ['--external-sources', script], { cwd: REPO, encoding: 'utf8' });
    if (result.error)
      throw new Error(`shellcheck could not run (apt-get install shellcheck): ${result.error.message}`);
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.status).toBe(0);
  });
});
