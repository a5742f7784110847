/** Every shell script in the repository passes shellcheck with no finding at any severity. */
import { join } from 'node:path';

import { runCommand, runCommandOk } from '@ibstack/test-kit';

const ROOT = join(__dirname, '..', '..');

describe('shell scripts', () => {
  it('are shellcheck-clean', async () => {
    const listed = await runCommandOk(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', '*.sh', '.ci/run'],
      {
        cwd: ROOT,
      },
    );
    const scripts = listed.stdout.split('\n').filter(Boolean);
    expect(scripts).toEqual(expect.arrayContaining(['infra/host/provision.sh', '.ci/run']));
    const result = await runCommand('shellcheck', ['--severity=style', '--external-sources', ...scripts], {
      cwd: ROOT,
    });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
