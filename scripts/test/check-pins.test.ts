import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runCommand, runCommandOk } from '@ibstack/test-kit';

import { imageProblem, versionSpecProblem, workflowProblems } from '../pins/rules';

const REPO = join(__dirname, '..', '..');
const CLI = join(REPO, 'scripts', 'check-pins.ts');

describe('pin rules', () => {
  it.each([
    ['postgres:15.13-bookworm', false, null],
    ['nats:2.10.29-alpine', false, null],
    ['prom/prometheus:v2.55.1', false, null],
    ['registry.example.com:5000/team/app:1.4.2', false, null],
    [`grafana/grafana@sha256:${'a'.repeat(64)}`, false, null],
    [`node:20@sha256:${'b'.repeat(64)}`, false, null],
    ['ibstack/execution:${IBSTACK_VERSION:-0.1.0}', true, null],
    ['ibstack/ibga:fcd2bf8', true, null],
    ['scratch', false, null],
    ['postgres', false, /no tag, so it means latest/],
    ['registry.example.com:5000/app', false, /no tag/],
    ['postgres:latest', false, /latest tag floats/],
    ['ibstack/execution:latest', true, /latest tag floats/],
    ['ibstack/execution', true, /no tag/],
    ['node:20', false, /tag 20 floats/],
    ['node:20-bookworm-slim', false, /tag 20-bookworm-slim floats/],
    ['nginx:stable-alpine', false, /tag stable-alpine floats/],
    ['nginx:mainline', false, /floats/],
    ['postgres:${PG_TAG}', false, /\(by default postgres:\): no tag/],
    ['postgres:${PG_TAG:?set PG_TAG}', false, /needs a variable that has no default/],
    ['postgres:${PG_TAG:-16}', false, /by default postgres:16\): tag 16 floats/],
  ])('image %s (built: %s)', (reference, built, expected) => {
    const problem = imageProblem(reference, { built });
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it.each([
    ['1.2.3', null],
    ['0.1.0', null],
    ['10.0.0-rc.1', null],
    ['1.2.3+build.5', null],
    ['npm:string-width@4.2.3', null],
    ['npm:@scope/pkg@2.0.1', null],
    [`git+https://github.com/owner/repo.git#${'c'.repeat(40)}`, null],
    ['^1.2.3', /range or a tag/],
    ['~1.2.3', /range or a tag/],
    ['>=1.2.3', /range or a tag/],
    ['1.2.x', /range or a tag/],
    ['1.2', /range or a tag/],
    ['*', /range or a tag/],
    ['latest', /range or a tag/],
    ['1.2.3 || 2.0.0', /range or a tag/],
    ['1.2.3 - 1.4.0', /range or a tag/],
    ['npm:string-width@^4.2.3', /range or a tag/],
    ['github:owner/repo', /not pinned to a commit/],
    ['git+https://github.com/owner/repo.git#main', /not pinned to a commit/],
    ['file:../other', /exact version instead/],
  ])('version %s', (spec, expected) => {
    const problem = versionSpecProblem(spec);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it('wants workflow runners by version and actions by commit', () => {
    const problems = workflowProblems(
      'deploy.yml',
      [
        'jobs:',
        '  deploy:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - uses: actions/checkout@v4',
        `      - uses: actions/setup-node@${'d'.repeat(40)}`,
        '      - uses: ./local-action',
        '    container: node:20',
      ].join('\n'),
    );
    expect(problems.map((problem) => `${problem.where}: ${problem.problem}`)).toEqual([
      'line 3: runs-on ubuntu-latest floats: name the version (ubuntu-24.04)',
      'line 5: uses actions/checkout@v4: pin the action to a full commit hash',
      'line 8: tag 20 floats: name a major.minor version at least, or a digest',
    ]);
  });
});

describe('npm run check:pins', () => {
  let repo: string;

  /** A copy of this repository's pinned files in a git work tree of its own. */
  beforeEach(async () => {
    repo = mkdtempSync(join(tmpdir(), 'ibstack-pins-'));
    for (const file of ['package.json', 'package-lock.json', 'docker-compose.yml', 'Dockerfile'])
      cpSync(join(REPO, file), join(repo, file));
    for (const workspace of ['packages/db', 'services/execution']) {
      mkdirSync(join(repo, workspace), { recursive: true });
      cpSync(join(REPO, workspace, 'package.json'), join(repo, workspace, 'package.json'));
    }
    await runCommandOk('git', ['init', '-q'], { cwd: repo });
  });

  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  const check = (directory: string) => runCommand(process.execPath, ['--import', 'tsx', CLI, directory]);
  const edit = (file: string, change: (text: string) => string) =>
    writeFileSync(join(repo, file), change(readFileSync(join(repo, file), 'utf8')));

  it('passes on this repository', async () => {
    const result = await check(REPO);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^check:pins: \d+ files, everything pinned\n$/);
    expect(result.code).toBe(0);
  });

  it('passes on the copy before anything is changed', async () => {
    const result = await check(repo);
    expect(result.code).toBe(0);
  });

  it.each<[string, () => void, RegExp]>([
    [
      'an unpinned image in the compose file',
      () =>
        edit('docker-compose.yml', (text) =>
          text.replace('image: postgres:15.13-bookworm', 'image: postgres:15'),
        ),
      /^docker-compose\.yml: services\.postgres\.image: tag 15 floats/m,
    ],
    [
      'a latest tag',
      () =>
        edit('docker-compose.yml', (text) =>
          text.replace('image: nats:2.10.29-alpine', 'image: nats:latest'),
        ),
      /^docker-compose\.yml: services\.nats\.image: the latest tag floats/m,
    ],
    [
      'a floating base image in the Dockerfile',
      () =>
        edit('Dockerfile', (text) =>
          text.replace(/ARG NODE_IMAGE=\S+/, 'ARG NODE_IMAGE=node:20-bookworm-slim'),
        ),
      /^Dockerfile: FROM \$\{NODE_IMAGE\}: tag 20-bookworm-slim floats/m,
    ],
    [
      'a version range in a workspace package.json',
      () => edit('services/execution/package.json', (text) => text.replace('"zod": "4', '"zod": "^4')),
      /^services\/execution\/package\.json: dependencies\.zod: \^4\.\S+ is a range or a tag/m,
    ],
    [
      'a version range in the root package.json',
      () => edit('package.json', (text) => text.replace('"jest": "29.7.0"', '"jest": "~29.7.0"')),
      /^package\.json: devDependencies\.jest: ~29\.7\.0 is a range or a tag/m,
    ],
    [
      'a missing lockfile',
      () => rmSync(join(repo, 'package-lock.json')),
      /^package-lock\.json: repository: no lockfile/m,
    ],
    [
      'a lockfile behind its package.json',
      () => edit('packages/db/package.json', (text) => text.replace('"pg": "8', '"pg": "9')),
      /^package-lock\.json: packages\/db dependencies\.pg: package\.json says 9\.\S+, the lockfile 8\.\S+/m,
    ],
    [
      'a workflow on a floating runner',
      () => {
        mkdirSync(join(repo, '.github', 'workflows'), { recursive: true });
        writeFileSync(
          join(repo, '.github', 'workflows', 'ci.yml'),
          'jobs:\n  ci:\n    runs-on: ubuntu-latest\n',
        );
      },
      /^\.github\/workflows\/ci\.yml: line 3: runs-on ubuntu-latest floats/m,
    ],
  ])('fails on %s, naming it', async (_, plant, expected) => {
    plant();
    const result = await check(repo);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr).toMatch(/check:pins: \d+ unpinned in \d+ files\n$/);
    expect(result.code).toBe(1);
  });
});
